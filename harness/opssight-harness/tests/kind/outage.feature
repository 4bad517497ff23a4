Feature: A Secrets Manager outage on the kind environment
  LocalStack's container is stopped and started again; what it held is
  put back, and the published port is read again.

  @requires-secrets-manager-outage
  Scenario: LocalStack stopped and started again
    Given the OpsSight secrets system is running
    When Secrets Manager becomes unreachable
    And Secrets Manager is reachable again
    And a refresh of every ExternalSecret is forced
    Then every ExternalSecret becomes Ready with reason "SecretSynced"
    And the Secret "opssight-app-secrets" holds exactly the keys and values of "opssight/production/app"
