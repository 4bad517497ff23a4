Feature: Missing or wrong AWS credentials
  When the credentials are missing or wrong, ESO reports it on the store and on
  every ExternalSecret, and the Secrets already in the cluster keep their last
  good data. Once the credentials are fixed, syncing resumes.

  Background:
    Given the OpsSight secrets system is running
    And every ExternalSecret becomes Ready with reason "SecretSynced"

  Scenario: aws-secret is deleted, then restored
    When the Secret "aws-secret" is deleted
    And the SecretStore is validated again
    Then the SecretStore becomes not ready with reason "InvalidProviderConfig" and message "unable to create client"
    And a Warning event "InvalidProviderConfig" about the SecretStore says "unable to create session: could not fetch SecretAccessKey secret: cannot get Kubernetes secret \"aws-secret\" from namespace \"opssight-production\": secrets \"aws-secret\" not found"
    When a refresh of "opssight-app-secrets" is forced
    Then the ExternalSecret "opssight-app-secrets" becomes not Ready with reason "SecretSyncedError"
    And a Warning event "UpdateFailed" about "opssight-app-secrets" says "error processing spec.dataFrom[0].extract, err: SecretStore \"aws-secrets-manager\" is not ready"
    And every Secret still holds the values it was synced with
    When "aws-secret" is restored with valid credentials
    And the SecretStore is validated again
    And the value of "opssight/production/app" changes in Secrets Manager
    Then the ExternalSecret "opssight-app-secrets" becomes Ready with reason "SecretSynced"
    And the Secret "opssight-app-secrets" holds exactly the keys and values of "opssight/production/app"

  Scenario: A key is missing from aws-secret
    When the key "secret-access-key" is removed from "aws-secret"
    And the SecretStore is validated again
    Then the SecretStore becomes not ready with reason "InvalidProviderConfig" and message "unable to create client"
    And a Warning event "InvalidProviderConfig" about the SecretStore says "unable to create session: could not fetch SecretAccessKey secret: cannot find secret data for key: \"secret-access-key\""

  @requires-iam
  Scenario: A wrong secret key
    When "aws-secret" holds a wrong secret access key
    And a refresh of "opssight-database-secrets" is forced
    Then the ExternalSecret "opssight-database-secrets" becomes not Ready with reason "SecretSyncedError"
    And a Warning event "UpdateFailed" about "opssight-database-secrets" mentions "InvalidSignatureException"
    And every Secret still holds the values it was synced with

  @requires-iam
  Scenario: A principal whose policy does not allow GetSecretValue
    When the controller's IAM policy no longer allows "secretsmanager:GetSecretValue"
    And a refresh of "opssight-redis-secrets" is forced
    Then the ExternalSecret "opssight-redis-secrets" becomes not Ready with reason "SecretSyncedError"
    And a Warning event "UpdateFailed" about "opssight-redis-secrets" mentions "is not authorized to perform: secretsmanager:GetSecretValue"
    And every Secret still holds the values it was synced with
    When the controller's IAM policy is the runbook's again
    And a refresh of "opssight-redis-secrets" is forced
    Then the ExternalSecret "opssight-redis-secrets" becomes Ready with reason "SecretSynced"
