@read-only
Feature: Secrets Manager secrets become Kubernetes Secrets
  OpsSight keeps four secrets in AWS Secrets Manager. External Secrets
  Operator turns each into a Kubernetes Secret in opssight-production, as the
  runbook's table of secret categories says.

  Background:
    Given the OpsSight secrets system is running

  Scenario Outline: Each category ends up as its Kubernetes Secret
    Then the ExternalSecret "<external secret>" becomes Ready with reason "SecretSynced"
    And the Secret "<external secret>" holds exactly the keys and values of "<remote key>"
    And the Secret "<external secret>" is managed by External Secrets and owned by its ExternalSecret

    Examples:
      | external secret            | remote key                            |
      | opssight-database-secrets  | opssight/production/database          |
      | opssight-app-secrets       | opssight/production/app               |
      | opssight-redis-secrets     | opssight/production/redis             |
      | opssight-external-services | opssight/production/external-services |

  @requires-runbook-refresh-interval
  Scenario: Every ExternalSecret refreshes hourly and reports its sync
    Then every ExternalSecret becomes Ready with reason "SecretSynced"
    And every ExternalSecret has a refresh interval of "1h"
    And every ExternalSecret reports the time of its last refresh
