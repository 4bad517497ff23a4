Feature: Drill objectives missed
  Two drills that must miss their objectives: one never recovers, one
  recovers slower than a deliberately impossible objective.

  Background:
    Given the OpsSight secrets system is running
    And every ExternalSecret becomes Ready with reason "SecretSynced"
    And the values of every Secret are recorded

  Scenario: The namespace is deleted and nobody rebuilds it
    When the namespace "opssight-production" is deleted
    Then the namespace "opssight-production" is gone

  Scenario: The namespace is rebuilt, slower than the objective
    When the namespace "opssight-production" is deleted
    Then the namespace "opssight-production" is gone
    When the local overlay is applied again
    Then every ExternalSecret becomes Ready with reason "SecretSynced"
    And every Secret holds the recorded values
