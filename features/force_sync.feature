Feature: Force-sync by annotation
  The runbook's recovery procedure forces a refresh with
  kubectl annotate externalsecret ... force-sync=$(date +%s). ESO has no special
  handling of that key: any change of labels or annotations makes a refresh due.

  Background:
    Given the OpsSight secrets system is running
    And every ExternalSecret becomes Ready with reason "SecretSynced"

  @requires-kubectl
  Scenario: The runbook's command updates the Secret well before the interval
    When the value of "opssight/production/app" changes in Secrets Manager
    And I run "kubectl annotate externalsecret opssight-app-secrets force-sync=$(date +%s) -n opssight-production"
    Then the command succeeds
    And the Secret "opssight-app-secrets" holds exactly the keys and values of "opssight/production/app"

  @requires-kubectl @requires-virtual-clock
  Scenario: With refreshInterval 0 the annotation does nothing, as in ESO
    Given the ExternalSecret "opssight-app-secrets" has refresh interval "0s"
    When the value of "opssight/production/app" changes in Secrets Manager
    And I run "kubectl annotate externalsecret opssight-app-secrets force-sync=$(date +%s) --overwrite -n opssight-production"
    Then the command succeeds
    And the controller has caught up
    And the Secret "opssight-app-secrets" still holds the previous values of "opssight/production/app"
