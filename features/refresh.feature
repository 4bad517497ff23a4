Feature: Changes in Secrets Manager reach the cluster on the refresh interval
  Each ExternalSecret refreshes every hour. A new value in Secrets Manager is
  not in the cluster before the interval has elapsed, and is after it.

  Background:
    Given the OpsSight secrets system is running
    And every ExternalSecret becomes Ready with reason "SecretSynced"

  @requires-virtual-clock
  Scenario: A changed value arrives after the refresh interval, not before
    When the value of "opssight/production/redis" changes in Secrets Manager
    And 30 minutes pass
    Then the Secret "opssight-redis-secrets" still holds the previous values of "opssight/production/redis"
    When 31 minutes pass
    Then the Secret "opssight-redis-secrets" holds exactly the keys and values of "opssight/production/redis"
    And the last refresh time of "opssight-redis-secrets" has moved

  @requires-waitable-refresh
  Scenario: A rotation is picked up at the next refresh
    When "opssight/production/database" is rotated in Secrets Manager
    And the refresh interval elapses
    Then the Secret "opssight-database-secrets" holds exactly the keys and values of "opssight/production/database"

  @requires-secrets-manager-outage @requires-virtual-clock
  Scenario: After a Secrets Manager outage the controller retries and recovers on its own
    Given the values of every Secret are recorded
    When Secrets Manager becomes unreachable
    And the refresh interval elapses
    Then the ExternalSecret "opssight-app-secrets" becomes not Ready with reason "SecretSyncedError"
    And every Secret holds the recorded values
    When Secrets Manager is reachable again
    And the retry backoff elapses
    Then every ExternalSecret becomes Ready with reason "SecretSynced"
    And every Secret holds the recorded values
