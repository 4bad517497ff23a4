@read-only
Feature: The manifests are what the runbook describes
  The overlays build, validate against ESO's CRDs, hold no plaintext
  credential, refresh hourly in production, and the IAM policy grants only
  reads of opssight/production/*. The kind and binaries overlays are the
  local one with a refresh interval short enough for real-time waits.

  Scenario: Every overlay builds with kustomize
    Then the overlay "production" builds
    And the overlay "local" builds
    And the overlay "kind" builds
    And the overlay "binaries" builds

  @requires-kubectl
  Scenario: kubectl's kustomize builds the same objects
    Then kubectl kustomize builds the same objects as the harness for "production" and "local"
    And kubectl kustomize builds the same objects as the harness for "kind" and "local"
    And kubectl kustomize builds the same objects as the harness for "binaries" and "local"

  # The runbook's sed and kubectl apply -f name external-secrets.yaml: the
  # fixtures have it, and it is the production overlay in one file.
  Scenario: The runbook's single file is the production overlay
    Then the runbook's single file holds the objects of the overlay "production"

  Scenario: Every manifest is accepted by ESO's CRDs
    Then every object of every overlay is accepted by the API server with ESO's CRDs

  Scenario: No plaintext credential in any manifest
    Then no manifest holds a Secret with data or a credential-like string

  Scenario: Production refreshes every ExternalSecret hourly
    Then every ExternalSecret of the overlay "production" has refresh interval "1h"
    And the overlay "production" annotates the service account with an IAM role for account "ACCOUNT_ID"

  Scenario: Only the real-time overlays shorten the refresh interval
    Then every ExternalSecret of the overlay "kind" has refresh interval "30s"
    And every ExternalSecret of the overlay "binaries" has refresh interval "10s"
    And every ExternalSecret of the overlay "local" has refresh interval "1h"

  Scenario: The IAM policy grants only reads of opssight/production/*
    Then the IAM policy allows only "secretsmanager:GetSecretValue" and "secretsmanager:DescribeSecret"
    And the IAM policy's resources are only "arn:aws:secretsmanager:us-west-2:ACCOUNT_ID:secret:opssight/production/*"
