@read-only
Feature: A scenario on the kind environment
  Enough to take a scenario through the kind environment's per-scenario
  reset: new values in LocalStack, the overlay applied, a refresh forced and
  waited for.

  Scenario: The kind overlay is in place
    Given the OpsSight secrets system is running
    Then the overlay "kind" builds
