Feature: Disaster recovery
  The runbook's recovery procedure: recreate the ExternalSecret configuration,
  force a refresh, and every Secret comes back identical. Also what else can
  go wrong: the namespace, a Secret deleted by hand, a Secrets Manager outage,
  a lost Secrets Manager restored from a snapshot, the controller going down.

  Background:
    Given the OpsSight secrets system is running
    And every ExternalSecret becomes Ready with reason "SecretSynced"
    And the values of every Secret are recorded

  Scenario: ExternalSecret configuration lost, applied again, refresh forced
    When every ExternalSecret is deleted
    Then every Secret is gone
    When the local overlay is applied again
    And a refresh of every ExternalSecret is forced
    Then every ExternalSecret becomes Ready with reason "SecretSynced"
    And every Secret holds the recorded values

  Scenario: The namespace is deleted and rebuilt
    When the namespace "opssight-production" is deleted
    Then the namespace "opssight-production" is gone
    When the local overlay is applied again
    Then every ExternalSecret becomes Ready with reason "SecretSynced"
    And every Secret holds the recorded values

  Scenario: A synced Secret deleted by hand is recreated
    When the Secret "opssight-database-secrets" is deleted
    Then the Secret "opssight-database-secrets" holds exactly the keys and values of "opssight/production/database"

  # The runbook's procedure once Secrets Manager is back: force a refresh
  # rather than wait out the controller's retry backoff (refresh.feature).
  # On kind the outage is LocalStack's container stopped (its secrets saved
  # by the harness and put back when it starts again).
  @requires-secrets-manager-outage @requires-waitable-refresh
  Scenario: Secrets Manager is down for a while: no data lost, refresh forced when it is back
    When Secrets Manager becomes unreachable
    And the refresh interval elapses
    Then the ExternalSecret "opssight-app-secrets" becomes not Ready with reason "SecretSyncedError"
    And every Secret holds the recorded values
    When Secrets Manager is reachable again
    And a refresh of every ExternalSecret is forced
    Then every ExternalSecret becomes Ready with reason "SecretSynced"
    And every Secret holds the recorded values

  @requires-snapshot
  Scenario: Secrets Manager restored from a snapshot
    When Secrets Manager is snapshotted
    And every OpsSight secret is deleted from Secrets Manager without recovery
    And Secrets Manager is restored from the snapshot
    And a refresh of every ExternalSecret is forced
    Then every ExternalSecret becomes Ready with reason "SecretSynced"
    And every Secret holds the recorded values

  # On kind the controller's deployment is scaled to 0 and back.
  @requires-controller-restart @requires-waitable-refresh
  Scenario: The controller is down and comes back
    When the controller stops
    And the value of "opssight/production/app" changes in Secrets Manager
    And the refresh interval elapses
    Then the Secret "opssight-app-secrets" still holds the previous values of "opssight/production/app"
    When the controller starts
    Then the Secret "opssight-app-secrets" holds exactly the keys and values of "opssight/production/app"

  # The runbook's policy names us-west-2 only: failing over to a replica
  # region is refused until the policy covers that region too.
  @requires-regions @requires-iam
  Scenario: Region failover to a replica
    Given every OpsSight secret is replicated to "us-east-1"
    When Secrets Manager in "us-west-2" becomes unavailable
    And the SecretStore is pointed at region "us-east-1"
    And a refresh of every ExternalSecret is forced
    Then the ExternalSecret "opssight-app-secrets" becomes not Ready with reason "SecretSyncedError"
    And a Warning event "UpdateFailed" about "opssight-app-secrets" mentions "is not authorized to perform: secretsmanager:GetSecretValue"
    And every Secret holds the recorded values
    When the controller's IAM policy also allows region "us-east-1"
    And a refresh of every ExternalSecret is forced
    Then every ExternalSecret becomes Ready with reason "SecretSynced"
    And every Secret holds the recorded values
