Feature: A deliberately failing command
  The secret hygiene test runs this too: the command prints the Secret's
  data (base64, as kubectl -v=8 would) and a value in the clear on stderr
  and fails, and "the command succeeds" puts its stderr in the failure that
  every writer shows.

  @requires-kubectl
  Scenario: A failing command whose stderr holds values
    Given the OpsSight secrets system is running
    And every ExternalSecret becomes Ready with reason "SecretSynced"
    When I run "kubectl get secret opssight-app-secrets -n opssight-production -o jsonpath='{.data}' >&2; kubectl get secret opssight-app-secrets -n opssight-production -o go-template='{{range .data}}{{base64decode .}} {{end}}' >&2; exit 3"
    Then the command succeeds
