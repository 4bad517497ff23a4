Feature: ESO's stores beyond the runbook
  Probes for the differential of how ESO validates a SecretStore or a
  ClusterSecretStore for AWS and what an ExternalSecret using it gets:
  credentials from the default chain, IRSA, both static keys and IRSA,
  AssumeRole, a missing credentials Secret, a ClusterSecretStore's
  credentials with and without a namespace, and its namespace conditions.
  Each store settles and is observed, then an ExternalSecret using it; what
  the real ESO did is the answer, declared in harness/eso-emulator/README.md
  where the emulator differs.

  Background:
    Given the OpsSight secrets system is running
    And every ExternalSecret becomes Ready with reason "SecretSynced"
    And the remote secret "opssight/production/probe-store" holds:
      """
      {"k": "v"}
      """

  Scenario: A SecretStore without auth
    Given this manifest is applied:
      """
      apiVersion: external-secrets.io/v1
      kind: SecretStore
      metadata:
        name: probe-no-auth
      spec:
        provider:
          aws: { service: SecretsManager, region: us-west-2 }
      """
    And the SecretStore "probe-no-auth" settles
    When this ExternalSecret is applied:
      """
      apiVersion: external-secrets.io/v1
      kind: ExternalSecret
      metadata:
        name: probe-no-auth
      spec:
        refreshInterval: 1h
        secretStoreRef: { name: probe-no-auth, kind: SecretStore }
        target: { name: probe-no-auth }
        dataFrom:
        - extract: { key: opssight/production/probe-store }
      """
    Then the ExternalSecret "probe-no-auth" settles with its target "probe-no-auth"

  Scenario: A SecretStore with IRSA
    Given AWS does not trust the cluster's ServiceAccount tokens
    And this manifest is applied:
      """
      apiVersion: v1
      kind: ServiceAccount
      metadata:
        name: probe-irsa
        annotations:
          eks.amazonaws.com/role-arn: arn:aws:iam::123456789012:role/probe-irsa
      """
    And this manifest is applied:
      """
      apiVersion: external-secrets.io/v1
      kind: SecretStore
      metadata:
        name: probe-irsa
      spec:
        provider:
          aws:
            service: SecretsManager
            region: us-west-2
            auth:
              jwt:
                serviceAccountRef: { name: probe-irsa }
      """
    And the SecretStore "probe-irsa" settles
    When this ExternalSecret is applied:
      """
      apiVersion: external-secrets.io/v1
      kind: ExternalSecret
      metadata:
        name: probe-irsa
      spec:
        refreshInterval: 1h
        secretStoreRef: { name: probe-irsa, kind: SecretStore }
        target: { name: probe-irsa }
        dataFrom:
        - extract: { key: opssight/production/probe-store }
      """
    Then the ExternalSecret "probe-irsa" settles with its target "probe-irsa"

  # Both kinds of credentials: which one ESO uses shows in how the store
  # fails, with no identity provider for the cluster's tokens.
  Scenario: A SecretStore with both static keys and IRSA
    Given AWS does not trust the cluster's ServiceAccount tokens
    And this manifest is applied:
      """
      apiVersion: v1
      kind: ServiceAccount
      metadata:
        name: probe-both
        annotations:
          eks.amazonaws.com/role-arn: arn:aws:iam::123456789012:role/probe-both
      """
    And this manifest is applied:
      """
      apiVersion: external-secrets.io/v1
      kind: SecretStore
      metadata:
        name: probe-both
      spec:
        provider:
          aws:
            service: SecretsManager
            region: us-west-2
            auth:
              secretRef:
                accessKeyIDSecretRef: { name: aws-secret, key: access-key-id }
                secretAccessKeySecretRef: { name: aws-secret, key: secret-access-key }
              jwt:
                serviceAccountRef: { name: probe-both }
      """
    And the SecretStore "probe-both" settles
    When this ExternalSecret is applied:
      """
      apiVersion: external-secrets.io/v1
      kind: ExternalSecret
      metadata:
        name: probe-both
      spec:
        refreshInterval: 1h
        secretStoreRef: { name: probe-both, kind: SecretStore }
        target: { name: probe-both }
        dataFrom:
        - extract: { key: opssight/production/probe-store }
      """
    Then the ExternalSecret "probe-both" settles with its target "probe-both"

  Scenario: A SecretStore that assumes a role
    Given this manifest is applied:
      """
      apiVersion: external-secrets.io/v1
      kind: SecretStore
      metadata:
        name: probe-role
      spec:
        provider:
          aws:
            service: SecretsManager
            region: us-west-2
            role: arn:aws:iam::123456789012:role/probe-assumed
            auth:
              secretRef:
                accessKeyIDSecretRef: { name: aws-secret, key: access-key-id }
                secretAccessKeySecretRef: { name: aws-secret, key: secret-access-key }
      """
    And the SecretStore "probe-role" settles
    When this ExternalSecret is applied:
      """
      apiVersion: external-secrets.io/v1
      kind: ExternalSecret
      metadata:
        name: probe-role
      spec:
        refreshInterval: 1h
        secretStoreRef: { name: probe-role, kind: SecretStore }
        target: { name: probe-role }
        dataFrom:
        - extract: { key: opssight/production/probe-store }
      """
    Then the ExternalSecret "probe-role" settles with its target "probe-role"

  Scenario: A SecretStore whose credentials Secret is missing
    Given this manifest is applied:
      """
      apiVersion: external-secrets.io/v1
      kind: SecretStore
      metadata:
        name: probe-no-credentials
      spec:
        provider:
          aws:
            service: SecretsManager
            region: us-west-2
            auth:
              secretRef:
                accessKeyIDSecretRef: { name: probe-missing, key: access-key-id }
                secretAccessKeySecretRef: { name: probe-missing, key: secret-access-key }
      """
    And the SecretStore "probe-no-credentials" settles
    When this ExternalSecret is applied:
      """
      apiVersion: external-secrets.io/v1
      kind: ExternalSecret
      metadata:
        name: probe-no-credentials
      spec:
        refreshInterval: 1h
        secretStoreRef: { name: probe-no-credentials, kind: SecretStore }
        target: { name: probe-no-credentials }
        dataFrom:
        - extract: { key: opssight/production/probe-store }
      """
    Then the ExternalSecret "probe-no-credentials" settles with its target "probe-no-credentials"

  Scenario: A ClusterSecretStore whose credentials name their namespace
    Given this manifest is applied:
      """
      apiVersion: external-secrets.io/v1
      kind: ClusterSecretStore
      metadata:
        name: probe-css-namespaced
      spec:
        provider:
          aws:
            service: SecretsManager
            region: us-west-2
            auth:
              secretRef:
                accessKeyIDSecretRef: { name: aws-secret, key: access-key-id, namespace: opssight-production }
                secretAccessKeySecretRef: { name: aws-secret, key: secret-access-key, namespace: opssight-production }
      """
    And the ClusterSecretStore "probe-css-namespaced" settles
    When this ExternalSecret is applied:
      """
      apiVersion: external-secrets.io/v1
      kind: ExternalSecret
      metadata:
        name: probe-css-namespaced
      spec:
        refreshInterval: 1h
        secretStoreRef: { name: probe-css-namespaced, kind: ClusterSecretStore }
        target: { name: probe-css-namespaced }
        dataFrom:
        - extract: { key: opssight/production/probe-store }
      """
    Then the ExternalSecret "probe-css-namespaced" settles with its target "probe-css-namespaced"

  Scenario: A ClusterSecretStore whose credentials name no namespace
    Given this manifest is applied:
      """
      apiVersion: external-secrets.io/v1
      kind: ClusterSecretStore
      metadata:
        name: probe-css-referent
      spec:
        provider:
          aws:
            service: SecretsManager
            region: us-west-2
            auth:
              secretRef:
                accessKeyIDSecretRef: { name: aws-secret, key: access-key-id }
                secretAccessKeySecretRef: { name: aws-secret, key: secret-access-key }
      """
    And the ClusterSecretStore "probe-css-referent" settles
    When this ExternalSecret is applied:
      """
      apiVersion: external-secrets.io/v1
      kind: ExternalSecret
      metadata:
        name: probe-css-referent
      spec:
        refreshInterval: 1h
        secretStoreRef: { name: probe-css-referent, kind: ClusterSecretStore }
        target: { name: probe-css-referent }
        dataFrom:
        - extract: { key: opssight/production/probe-store }
      """
    Then the ExternalSecret "probe-css-referent" settles with its target "probe-css-referent"

  Scenario Outline: A ClusterSecretStore's namespace conditions
    Given this manifest is applied:
      """
      apiVersion: external-secrets.io/v1
      kind: ClusterSecretStore
      metadata:
        name: probe-css-<name>
      spec:
        conditions:
        - namespaces: [ <namespace> ]
        provider:
          aws:
            service: SecretsManager
            region: us-west-2
            auth:
              secretRef:
                accessKeyIDSecretRef: { name: aws-secret, key: access-key-id, namespace: opssight-production }
                secretAccessKeySecretRef: { name: aws-secret, key: secret-access-key, namespace: opssight-production }
      """
    And the ClusterSecretStore "probe-css-<name>" settles
    When this ExternalSecret is applied:
      """
      apiVersion: external-secrets.io/v1
      kind: ExternalSecret
      metadata:
        name: probe-css-<name>
      spec:
        refreshInterval: 1h
        secretStoreRef: { name: probe-css-<name>, kind: ClusterSecretStore }
        target: { name: probe-css-<name> }
        dataFrom:
        - extract: { key: opssight/production/probe-store }
      """
    Then the ExternalSecret "probe-css-<name>" settles with its target "probe-css-<name>"

    Examples:
      | name    | namespace           |
      | allowed | opssight-production |
      | denied  | somewhere-else      |
