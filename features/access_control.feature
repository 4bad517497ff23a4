Feature: Least privilege for the controller's principal
  With the runbook's IAM policy, ESO's principal reads opssight/production/*
  and nothing else, cannot write, and every read is in the audit trail.

  Background:
    Given the OpsSight secrets system is running
    And every ExternalSecret becomes Ready with reason "SecretSynced"

  @requires-iam
  Scenario: The principal reads production secrets and nothing else
    Given a secret "opssight/staging/app" exists in Secrets Manager
    Then the controller's principal can read "opssight/production/app"
    And the controller's principal can describe "opssight/production/database"
    But the controller's principal is denied reading "opssight/staging/app"
    And the controller's principal is denied writing "opssight/production/app"
    And the controller's principal is denied listing secrets

  @requires-iam @requires-audit
  Scenario: Every read is in the audit trail
    Then the audit trail holds a GetSecretValue by the controller's principal for each OpsSight secret
    And the audit trail holds no secret value
