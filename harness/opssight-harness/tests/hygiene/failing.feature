Feature: A deliberately failing scenario
  The secret hygiene test runs this with the real features: its failure
  exercises the failure report and the diagnostics, which must not show a
  value either.

  Scenario: A Secret compared with the wrong Secrets Manager secret
    Given the OpsSight secrets system is running
    Then the Secret "opssight-app-secrets" holds exactly the keys and values of "opssight/production/redis"
