Feature: The runbook's own lines, as it prints them
  The runbook's commands run verbatim, in its order, on the files it names.
  Where the runbook is wrong the scenario shows how, and the README's
  "Runbook findings" says what to change.

  Background:
    Given the OpsSight secrets system is running
    And every ExternalSecret becomes Ready with reason "SecretSynced"

  # Recovery Procedures: its force-sync line has no --overwrite. It works
  # once; run again (a later incident, a second attempt), kubectl refuses it.
  # The commands' date reads the environment's clock: the embedded one's
  # virtual clock is moved to its next second, the wall clock waited for.
  @requires-kubectl
  Scenario: The force-sync line works once and is refused the second time
    When I run "kubectl annotate externalsecret opssight-app-secrets force-sync=$(date +%s) -n opssight-production"
    Then the command succeeds
    When the clock turns to its next second
    And I run "kubectl annotate externalsecret opssight-app-secrets force-sync=$(date +%s) -n opssight-production"
    Then the command fails saying "--overwrite is false"

  # EKS Service Account Setup on a cluster whose store was made another way
  # (here, the local overlay's, with aws-secret): kubectl apply adds jwt and
  # keeps secretRef, and ESO uses jwt whenever a store has it. Run before AWS
  # trusts the cluster's tokens (no OIDC provider for its issuer), the store
  # fails at once and no ExternalSecret syncs until that trust is in place.
  @requires-kubectl @requires-iam
  Scenario: The EKS setup lines before AWS trusts the cluster's tokens stop every sync
    Given AWS does not trust the cluster's ServiceAccount tokens
    And the runbook's "external-secrets.yaml" in a working directory
    When I run "sed -i 's/ACCOUNT_ID/123456789012/g' external-secrets.yaml"
    Then the command succeeds
    When I run "kubectl apply -f external-secrets.yaml"
    Then the command succeeds
    And the SecretStore "aws-secrets-manager" authenticates both with "aws-secret" and with the ServiceAccount's token
    When the SecretStore is validated again
    Then the SecretStore becomes not ready with reason "InvalidProviderConfig" and message "unable to validate store"
    And a Warning event "InvalidProviderConfig" about "aws-secrets-manager" mentions "InvalidIdentityToken: No OpenIDConnect provider found in your account"
    When a refresh of "opssight-app-secrets" is forced
    Then the ExternalSecret "opssight-app-secrets" becomes not Ready with reason "SecretSyncedError"
    And a Warning event "UpdateFailed" about "opssight-app-secrets" says "error processing spec.dataFrom[0].extract, err: SecretStore \"aws-secrets-manager\" is not ready"
    And every Secret still holds the values it was synced with

  # The same lines once AWS trusts the cluster's tokens: the store, still
  # naming aws-secret, reads as the IAM role with the ServiceAccount's token,
  # and aws-secret can go.
  @requires-kubectl @requires-iam @requires-audit @requires-irsa
  Scenario: The EKS setup lines over an existing store use the ServiceAccount's token
    Given the runbook's "external-secrets.yaml" in a working directory
    When I run "sed -i 's/ACCOUNT_ID/123456789012/g' external-secrets.yaml"
    And I run "kubectl apply -f external-secrets.yaml"
    Then the command succeeds
    And the SecretStore "aws-secrets-manager" authenticates both with "aws-secret" and with the ServiceAccount's token
    # The file's ExternalSecrets come before its store: apply's new
    # annotation on each makes the controller sync it again, and a sync that
    # read the store before apply reached it still signs with aws-secret.
    # Those syncs end before the mark.
    And the controller has caught up
    When the Secret "aws-secret" is deleted
    And the audit trail is marked
    And a refresh of every ExternalSecret is forced
    Then the controller has caught up
    And every ExternalSecret becomes Ready with reason "SecretSynced"
    And since the mark Secrets Manager was read only as the role "opssight-external-secrets", assumed with the ServiceAccount's token
