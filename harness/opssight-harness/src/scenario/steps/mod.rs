//! Step definitions, one module per feature file (`features/`), and
//! `probes` for the differential's probe scenarios
//! (`harness/opssight-harness/tests/probes/`). A step several features use
//! lives with the feature it first served. Every step, by its phrase (the
//! Gherkin keyword left out; `{string}` is a quoted argument), and where it
//! is; `tests/integration/architecture.rs` fails when this table and the steps differ:
//!
//! | step | module |
//! |---|---|
//! | `a refresh of every ExternalSecret is forced` | `missing_credentials` |
//! | `a refresh of {string} is forced` | `missing_credentials` |
//! | `a secret {string} exists in Secrets Manager` | `access_control` |
//! | `a Warning event {string} about the SecretStore says {string}` | `missing_credentials` |
//! | `a Warning event {string} about {string} mentions {string}` | `missing_credentials` |
//! | `a Warning event {string} about {string} says {string}` | `missing_credentials` |
//! | `AWS does not trust the cluster's ServiceAccount tokens` | `runbook` |
//! | `every ExternalSecret becomes Ready with reason {string}` | `sync` |
//! | `every ExternalSecret has a refresh interval of {string}` | `sync` |
//! | `every ExternalSecret is deleted` | `disaster_recovery` |
//! | `every ExternalSecret of the overlay {string} has refresh interval {string}` | `manifests` |
//! | `every ExternalSecret reports the time of its last refresh` | `sync` |
//! | `every object of every overlay is accepted by the API server with ESO's CRDs` | `manifests` |
//! | `every OpsSight secret is deleted from Secrets Manager without recovery` | `disaster_recovery` |
//! | `every OpsSight secret is replicated to {string}` | `disaster_recovery` |
//! | `every Secret holds the recorded values` | `disaster_recovery` |
//! | `every Secret is gone` | `disaster_recovery` |
//! | `every Secret still holds the values it was synced with` | `missing_credentials` |
//! | `I run {string}` | `force_sync` |
//! | `kubectl kustomize builds the same objects as the harness for {string} and {string}` | `manifests` |
//! | `no manifest holds a Secret with data or a credential-like string` | `manifests` |
//! | `Secrets Manager becomes unreachable` | `disaster_recovery` |
//! | `Secrets Manager in {string} becomes unavailable` | `disaster_recovery` |
//! | `Secrets Manager is reachable again` | `disaster_recovery` |
//! | `Secrets Manager is restored from the snapshot` | `disaster_recovery` |
//! | `Secrets Manager is snapshotted` | `disaster_recovery` |
//! | `since the mark Secrets Manager was read only as the role {string}, assumed with the ServiceAccount's token` | `runbook` |
//! | `the audit trail holds a GetSecretValue by the controller's principal for each OpsSight secret` | `access_control` |
//! | `the audit trail holds no secret value` | `access_control` |
//! | `the audit trail is marked` | `runbook` |
//! | `the command fails saying {string}` | `force_sync` |
//! | `the command succeeds` | `force_sync` |
//! | `the command's output mentions {string}` | `pods` |
//! | `the controller has caught up` | `refresh` |
//! | `the controller starts` | `disaster_recovery` |
//! | `the controller stops` | `disaster_recovery` |
//! | `the controller's IAM policy also allows region {string}` | `disaster_recovery` |
//! | `the controller's IAM policy is the runbook's again` | `missing_credentials` |
//! | `the controller's IAM policy no longer allows {string}` | `missing_credentials` |
//! | `the controller's principal can describe {string}` | `access_control` |
//! | `the controller's principal can read {string}` | `access_control` |
//! | `the controller's principal is denied listing secrets` | `access_control` |
//! | `the controller's principal is denied reading {string}` | `access_control` |
//! | `the controller's principal is denied writing {string}` | `access_control` |
//! | `the ExternalSecret {string} becomes not Ready with reason {string}` | `sync` |
//! | `the ExternalSecret {string} becomes Ready with reason {string}` | `sync` |
//! | `the ExternalSecret {string} has refresh interval {string}` | `force_sync` |
//! | `the ExternalSecret {string} is deleted` | `probes` |
//! | `the ExternalSecret {string} settles with its target {string}` | `probes` |
//! | `the IAM policy allows only {string} and {string}` | `manifests` |
//! | `the IAM policy's resources are only {string}` | `manifests` |
//! | `the key {string} is removed from {string}` | `missing_credentials` |
//! | `the label {string} is taken off the Secret {string}` | `probes` |
//! | `the last refresh time of {string} has moved` | `refresh` |
//! | `the local overlay is applied again` | `disaster_recovery` |
//! | `the namespace {string} is deleted` | `disaster_recovery` |
//! | `the namespace {string} is gone` | `disaster_recovery` |
//! | `the OpsSight secrets system is running` | `sync` |
//! | `the overlay {string} annotates the service account with an IAM role for account {string}` | `manifests` |
//! | `the overlay {string} builds` | `manifests` |
//! | `the pod {string} is restarted` | `pods` |
//! | `the pod {string} mounts {string} as a volume and through envFrom` | `pods` |
//! | `the pod {string} sees the values of {string} in its mounted files and its environment` | `pods` |
//! | `the pod {string} still sees the previous values of {string} in its environment` | `pods` |
//! | `the refresh interval elapses` | `refresh` |
//! | `the remote secret {string} holds:` | `probes` |
//! | `the remote secret {string} is deleted with a recovery window` | `probes` |
//! | `the remote secret {string} is deleted without recovery` | `probes` |
//! | `the retry backoff elapses` | `refresh` |
//! | `the runbook's single file holds the objects of the overlay {string}` | `manifests` |
//! | `the runbook's {string} in a working directory` | `runbook` |
//! | `the Secret {string} holds exactly the keys and values of {string}` | `sync` |
//! | `the Secret {string} is deleted` | `missing_credentials` |
//! | `the Secret {string} is managed by External Secrets and owned by its ExternalSecret` | `sync` |
//! | `the Secret {string} still holds the previous values of {string}` | `refresh` |
//! | `the SecretStore becomes not ready with reason {string} and message {string}` | `missing_credentials` |
//! | `the SecretStore is pointed at region {string}` | `disaster_recovery` |
//! | `the SecretStore is validated again` | `missing_credentials` |
//! | `the SecretStore {string} authenticates both with {string} and with the ServiceAccount's token` | `runbook` |
//! | `the value of {string} changes in Secrets Manager` | `refresh` |
//! | `the values of every Secret are recorded` | `disaster_recovery` |
//! | `the clock turns to its next second` | `runbook` |
//! | `the {word} {string} settles` | `probes` |
//! | `this ExternalSecret is applied:` | `probes` |
//! | `this manifest is applied:` | `probes` |
//! | `within the kubelet's sync period the pod {string} sees the values of {string} in its mounted files` | `pods` |
//! | `{int} minutes pass` | `refresh` |
//! | `{string} holds a wrong secret access key` | `missing_credentials` |
//! | `{string} is restored with valid credentials` | `missing_credentials` |
//! | `{string} is rotated in Secrets Manager` | `refresh` |

mod access_control;
mod disaster_recovery;
mod force_sync;
mod manifests;
mod missing_credentials;
mod pods;
mod probes;
mod refresh;
mod runbook;
mod sync;
