@requires-kubelet @requires-kubectl
Feature: What an application pod sees of its Secret
  The architecture ends at the application's pods. A pod that mounts
  opssight-app-secrets as a volume sees a rotation once the kubelet syncs
  the volume again; one that reads it through envFrom keeps the values it
  started with until it is restarted. Only a kubelet runs pods: kind.
  The pod reports hashes of what it sees, never the values.

  Background:
    Given the OpsSight secrets system is running
    And every ExternalSecret becomes Ready with reason "SecretSynced"
    And the pod "opssight-app" mounts "opssight-app-secrets" as a volume and through envFrom

  Scenario: After a rotation and a force-sync the mounted file changes, the environment only on restart
    Then the pod "opssight-app" sees the values of "opssight/production/app" in its mounted files and its environment
    When "opssight/production/app" is rotated in Secrets Manager
    And a refresh of "opssight-app-secrets" is forced
    Then the Secret "opssight-app-secrets" holds exactly the keys and values of "opssight/production/app"
    And within the kubelet's sync period the pod "opssight-app" sees the values of "opssight/production/app" in its mounted files
    And the pod "opssight-app" still sees the previous values of "opssight/production/app" in its environment
    When the pod "opssight-app" is restarted
    Then the pod "opssight-app" sees the values of "opssight/production/app" in its mounted files and its environment

  # The runbook's "Secret Not Available in Pod" lines, on that pod. Its
  # `kubectl get secret ... -o yaml` ("this exposes secrets") is left out:
  # the harness shows no secret value.
  Scenario: The runbook's "Secret Not Available in Pod" commands on that pod
    When I run "kubectl get secret opssight-app-secrets -n opssight-production"
    Then the command succeeds
    And the command's output mentions "opssight-app-secrets"
    When I run "kubectl describe pod opssight-app -n opssight-production"
    Then the command succeeds
    And the command's output mentions "opssight-app-secrets"
