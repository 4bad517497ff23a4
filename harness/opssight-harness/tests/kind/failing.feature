@read-only
Feature: A failing scenario on the kind environment

  Scenario: Nothing syncs without an operator
    Given the OpsSight secrets system is running
    Then the ExternalSecret "opssight-app-secrets" becomes Ready with reason "SecretSynced"
