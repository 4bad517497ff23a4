Feature: ESO's behaviour beyond the runbook
  Probes for the differential (`.ci/run` runs them on --env embedded and on
  --env binaries and compares what each observed): value encodings, the
  precedence of data over dataFrom, deletion and creation policies, a
  renamed target, an immutable target, a target another ExternalSecret
  owns, a target whose managed label is taken off, and the refresh
  policies. Each probe settles and is observed; what the real ESO did
  is the answer, declared in harness/eso-emulator/README.md where the
  emulator differs.

  Background:
    Given the OpsSight secrets system is running
    And every ExternalSecret becomes Ready with reason "SecretSynced"

  Scenario: Values that are not JSON strings
    Given the remote secret "opssight/production/probe-types" holds:
      """
      {"port": 5432, "ratio": 0.5, "enabled": true, "nested": {"a": 1}, "list": [1, "x"], "nothing": null, "text": "plain"}
      """
    When this ExternalSecret is applied:
      """
      apiVersion: external-secrets.io/v1
      kind: ExternalSecret
      metadata:
        name: probe-types
      spec:
        refreshInterval: 1h
        secretStoreRef: { name: aws-secrets-manager, kind: SecretStore }
        target: { name: probe-types }
        dataFrom:
        - extract: { key: opssight/production/probe-types }
      """
    Then the ExternalSecret "probe-types" settles with its target "probe-types"

  Scenario: data and dataFrom write the same key
    Given the remote secret "opssight/production/probe-from-extract" holds:
      """
      {"user": "from-dataFrom", "other": "x"}
      """
    And the remote secret "opssight/production/probe-from-data" holds:
      """
      {"value": "from-data"}
      """
    When this ExternalSecret is applied:
      """
      apiVersion: external-secrets.io/v1
      kind: ExternalSecret
      metadata:
        name: probe-precedence
      spec:
        refreshInterval: 1h
        secretStoreRef: { name: aws-secrets-manager, kind: SecretStore }
        target: { name: probe-precedence }
        data:
        - secretKey: user
          remoteRef: { key: opssight/production/probe-from-data, property: value }
        dataFrom:
        - extract: { key: opssight/production/probe-from-extract }
      """
    Then the ExternalSecret "probe-precedence" settles with its target "probe-precedence"

  Scenario: deletionPolicy Delete and a remote secret scheduled for deletion
    Given the remote secret "opssight/production/probe-soft-deleted" holds:
      """
      {"k": "v"}
      """
    And this ExternalSecret is applied:
      """
      apiVersion: external-secrets.io/v1
      kind: ExternalSecret
      metadata:
        name: probe-soft-deleted
      spec:
        refreshInterval: 1h
        secretStoreRef: { name: aws-secrets-manager, kind: SecretStore }
        target: { name: probe-soft-deleted, deletionPolicy: Delete }
        dataFrom:
        - extract: { key: opssight/production/probe-soft-deleted }
      """
    And the ExternalSecret "probe-soft-deleted" settles with its target "probe-soft-deleted"
    When the remote secret "opssight/production/probe-soft-deleted" is deleted with a recovery window
    Then the ExternalSecret "probe-soft-deleted" settles with its target "probe-soft-deleted"

  Scenario: deletionPolicy Delete and a remote secret deleted for good
    Given the remote secret "opssight/production/probe-gone" holds:
      """
      {"k": "v"}
      """
    And this ExternalSecret is applied:
      """
      apiVersion: external-secrets.io/v1
      kind: ExternalSecret
      metadata:
        name: probe-gone
      spec:
        refreshInterval: 1h
        secretStoreRef: { name: aws-secrets-manager, kind: SecretStore }
        target: { name: probe-gone, deletionPolicy: Delete }
        dataFrom:
        - extract: { key: opssight/production/probe-gone }
      """
    And the ExternalSecret "probe-gone" settles with its target "probe-gone"
    When the remote secret "opssight/production/probe-gone" is deleted without recovery
    Then the ExternalSecret "probe-gone" settles with its target "probe-gone"

  Scenario: deletionPolicy Delete and one of two remote secrets gone
    Given the remote secret "opssight/production/probe-kept" holds:
      """
      {"a": "1"}
      """
    And the remote secret "opssight/production/probe-lost" holds:
      """
      {"b": "2"}
      """
    And this ExternalSecret is applied:
      """
      apiVersion: external-secrets.io/v1
      kind: ExternalSecret
      metadata:
        name: probe-partial
      spec:
        refreshInterval: 1h
        secretStoreRef: { name: aws-secrets-manager, kind: SecretStore }
        target: { name: probe-partial, deletionPolicy: Delete }
        data:
        - secretKey: a
          remoteRef: { key: opssight/production/probe-kept, property: a }
        - secretKey: b
          remoteRef: { key: opssight/production/probe-lost, property: b }
      """
    And the ExternalSecret "probe-partial" settles with its target "probe-partial"
    When the remote secret "opssight/production/probe-lost" is deleted without recovery
    Then the ExternalSecret "probe-partial" settles with its target "probe-partial"

  Scenario: creationPolicy Orphan keeps the Secret when the ExternalSecret goes
    Given the remote secret "opssight/production/probe-orphan" holds:
      """
      {"k": "v"}
      """
    And this ExternalSecret is applied:
      """
      apiVersion: external-secrets.io/v1
      kind: ExternalSecret
      metadata:
        name: probe-orphan
      spec:
        refreshInterval: 1h
        secretStoreRef: { name: aws-secrets-manager, kind: SecretStore }
        target: { name: probe-orphan, creationPolicy: Orphan }
        dataFrom:
        - extract: { key: opssight/production/probe-orphan }
      """
    And the ExternalSecret "probe-orphan" settles with its target "probe-orphan"
    When the ExternalSecret "probe-orphan" is deleted
    Then the ExternalSecret "probe-orphan" settles with its target "probe-orphan"

  Scenario: creationPolicy Merge without a Secret to merge into
    Given the remote secret "opssight/production/probe-merge" holds:
      """
      {"k": "v"}
      """
    When this ExternalSecret is applied:
      """
      apiVersion: external-secrets.io/v1
      kind: ExternalSecret
      metadata:
        name: probe-merge
      spec:
        refreshInterval: 1h
        secretStoreRef: { name: aws-secrets-manager, kind: SecretStore }
        target: { name: probe-merge, creationPolicy: Merge }
        dataFrom:
        - extract: { key: opssight/production/probe-merge }
      """
    Then the ExternalSecret "probe-merge" settles with its target "probe-merge"

  Scenario: The target is renamed
    Given the remote secret "opssight/production/probe-rename" holds:
      """
      {"k": "v"}
      """
    And this ExternalSecret is applied:
      """
      apiVersion: external-secrets.io/v1
      kind: ExternalSecret
      metadata:
        name: probe-rename
      spec:
        refreshInterval: 1h
        secretStoreRef: { name: aws-secrets-manager, kind: SecretStore }
        target: { name: probe-rename-old }
        dataFrom:
        - extract: { key: opssight/production/probe-rename }
      """
    And the ExternalSecret "probe-rename" settles with its target "probe-rename-old"
    When this ExternalSecret is applied:
      """
      apiVersion: external-secrets.io/v1
      kind: ExternalSecret
      metadata:
        name: probe-rename
      spec:
        refreshInterval: 1h
        secretStoreRef: { name: aws-secrets-manager, kind: SecretStore }
        target: { name: probe-rename-new }
        dataFrom:
        - extract: { key: opssight/production/probe-rename }
      """
    Then the ExternalSecret "probe-rename" settles with its target "probe-rename-new"

  Scenario: An immutable target whose remote value changes
    Given the remote secret "opssight/production/probe-immutable" holds:
      """
      {"k": "first"}
      """
    And this ExternalSecret is applied:
      """
      apiVersion: external-secrets.io/v1
      kind: ExternalSecret
      metadata:
        name: probe-immutable
      spec:
        refreshInterval: 1h
        secretStoreRef: { name: aws-secrets-manager, kind: SecretStore }
        target: { name: probe-immutable, immutable: true }
        dataFrom:
        - extract: { key: opssight/production/probe-immutable }
      """
    And the ExternalSecret "probe-immutable" settles with its target "probe-immutable"
    When the remote secret "opssight/production/probe-immutable" holds:
      """
      {"k": "second"}
      """
    Then the ExternalSecret "probe-immutable" settles with its target "probe-immutable"

  Scenario: A target already owned by another ExternalSecret
    Given the remote secret "opssight/production/probe-owned" holds:
      """
      {"k": "v"}
      """
    And this ExternalSecret is applied:
      """
      apiVersion: external-secrets.io/v1
      kind: ExternalSecret
      metadata:
        name: probe-first-owner
      spec:
        refreshInterval: 1h
        secretStoreRef: { name: aws-secrets-manager, kind: SecretStore }
        target: { name: probe-owned, creationPolicy: Owner }
        dataFrom:
        - extract: { key: opssight/production/probe-owned }
      """
    And the ExternalSecret "probe-first-owner" settles with its target "probe-owned"
    When this ExternalSecret is applied:
      """
      apiVersion: external-secrets.io/v1
      kind: ExternalSecret
      metadata:
        name: probe-second-owner
      spec:
        refreshInterval: 1h
        secretStoreRef: { name: aws-secrets-manager, kind: SecretStore }
        target: { name: probe-owned, creationPolicy: Owner }
        dataFrom:
        - extract: { key: opssight/production/probe-owned }
      """
    Then the ExternalSecret "probe-second-owner" settles with its target "probe-owned"

  Scenario: The managed label is taken off the target by hand
    Given the remote secret "opssight/production/probe-unlabelled" holds:
      """
      {"k": "v"}
      """
    And this ExternalSecret is applied:
      """
      apiVersion: external-secrets.io/v1
      kind: ExternalSecret
      metadata:
        name: probe-unlabelled
      spec:
        refreshInterval: 1h
        secretStoreRef: { name: aws-secrets-manager, kind: SecretStore }
        target: { name: probe-unlabelled, creationPolicy: Owner }
        dataFrom:
        - extract: { key: opssight/production/probe-unlabelled }
      """
    And the ExternalSecret "probe-unlabelled" settles with its target "probe-unlabelled"
    When the label "reconcile.external-secrets.io/managed" is taken off the Secret "probe-unlabelled"
    Then the Secret "probe-unlabelled" settles
    And the ExternalSecret "probe-unlabelled" settles with its target "probe-unlabelled"

  Scenario Outline: refreshPolicy and a remote change, then a forced refresh
    Given the remote secret "opssight/production/probe-policy-<name>" holds:
      """
      {"k": "first"}
      """
    And this ExternalSecret is applied:
      """
      apiVersion: external-secrets.io/v1
      kind: ExternalSecret
      metadata:
        name: probe-policy-<name>
      spec:
        refreshInterval: 1h
        refreshPolicy: <policy>
        secretStoreRef: { name: aws-secrets-manager, kind: SecretStore }
        target: { name: probe-policy-<name> }
        dataFrom:
        - extract: { key: opssight/production/probe-policy-<name> }
      """
    And the ExternalSecret "probe-policy-<name>" settles with its target "probe-policy-<name>"
    When the remote secret "opssight/production/probe-policy-<name>" holds:
      """
      {"k": "second"}
      """
    Then the ExternalSecret "probe-policy-<name>" settles with its target "probe-policy-<name>"

    Examples:
      | name        | policy      |
      | createdonce | CreatedOnce |
      | onchange    | OnChange    |
      | periodic    | Periodic    |
