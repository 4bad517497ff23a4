@read-only
Feature: The manifests are what the runbook describes
  Both overlays build, validate against ESO's CRDs, hold no plaintext
  credential, refresh hourly in production, and the IAM policy grants only
  reads of opssight/production/*.

  Scenario: Both overlays build with kustomize
    Then the overlay "production" builds
    And the overlay "local" builds

  @requires-kubectl
  Scenario: kubectl's kustomize builds the same objects
    Then kubectl kustomize builds the same objects as the harness for "production" and "local"

  Scenario: Every manifest is accepted by ESO's CRDs
    Then every object of both overlays is accepted by the API server with ESO's CRDs

  Scenario: No plaintext credential in any manifest
    Then no manifest holds a Secret with data or a credential-like string

  Scenario: Production refreshes every ExternalSecret hourly
    Then every ExternalSecret of the overlay "production" has refresh interval "1h"
    And the overlay "production" annotates the service account with an IAM role for account "ACCOUNT_ID"

  Scenario: The IAM policy grants only reads of opssight/production/*
    Then the IAM policy allows only "secretsmanager:GetSecretValue" and "secretsmanager:DescribeSecret"
    And the IAM policy's resources are only "arn:aws:secretsmanager:us-west-2:ACCOUNT_ID:secret:opssight/production/*"
