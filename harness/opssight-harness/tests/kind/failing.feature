@read-only
Feature: A failing scenario on the kind environment

  Scenario: A Secret compared with the wrong secret fails
    Given the OpsSight secrets system is running
    Then the Secret "opssight-app-secrets" holds exactly the keys and values of "opssight/production/redis"
