@read-only
Feature: A scenario leaves the store broken; the next one starts clean
  On kind all scenarios share one cluster, and each starts by putting it back.

  Scenario: aws-secret is deleted and the store fails its validation
    Given the OpsSight secrets system is running
    When the Secret "aws-secret" is deleted
    And the SecretStore is validated again
    Then the SecretStore becomes not ready with reason "InvalidProviderConfig" and message "unable to create client"

  Scenario: The next scenario starts with credentials and a valid store
    Given the OpsSight secrets system is running
    Then every ExternalSecret becomes Ready with reason "SecretSynced"
    And the Secret "opssight-app-secrets" holds exactly the keys and values of "opssight/production/app"
