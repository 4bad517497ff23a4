//! Every image the kind environment runs, pinned by tag and digest in one
//! place. A tag can be moved to other bytes; a digest cannot, and kind's
//! release notes say a node image is only guaranteed for its release when
//! pulled by digest. Where each digest was read is said beside it.

/// The node image: Kubernetes 1.33.4 as built for kind v0.30.0 (the pinned
/// kind, `preflight::KIND`). Digest from kind v0.30.0's release notes
/// ("Images pre-built for this release"); ESO v2.9.0's e2e/Makefile pins
/// the same digest, and its e2e workflows run kind v0.30.0 with this
/// image. ESO's stability table derives its "Kubernetes Version" column
/// from its client-go (1.36 for 2.9), which no kind 0.30 image ships; what
/// ESO's suites run on is 1.33.4, so that is what runs here.
pub const KIND_NODE: &str =
    "kindest/node:v1.33.4@sha256:25a6018e48dfcaee478f4a59af81157a437f15e6e140bf103f85a2e7cd0cbbf2";

/// LocalStack's community image: the 4.12 tag starts without an auth token
/// (`latest` no longer does since March 2026). The digest comes from a
/// single public source (a repository pinning the same tag for its
/// integration tests), not from LocalStack's own notes: LocalStack
/// publishes none. `--localstack-image` replaces it.
pub const LOCALSTACK: &str = "localstack/localstack:4.12@sha256:0df3a97da57de03a588c05d9b8f390f15c7033fc7c4512f94619d344bc3cd317";

/// The application pod of `features/pods.feature`: a shell with
/// `sha256sum`, nothing else. The digest is the one three unrelated public
/// repositories pin for busybox 1.37.0 (a multi-arch index: amd64 and
/// arm64 nodes pull their own image from it).
pub const APP_POD: &str =
    "busybox:1.37.0@sha256:bdf57e528e45e4433820e045b29b4597825a1c9e38353532d90a01445013f82e";

/// Every pinned image, for the test that each is well formed.
pub const ALL: &[&str] = &[KIND_NODE, LOCALSTACK, APP_POD];

/// An image reference split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference<'a> {
    pub repository: &'a str,
    pub tag: &'a str,
    /// The hex of `sha256:<hex>`.
    pub digest: &'a str,
}

/// `repo:tag@sha256:<64 lowercase hex>`, or `None` when any part is
/// missing or malformed.
pub fn parse(reference: &str) -> Option<Reference<'_>> {
    let (name, digest) = reference.split_once("@sha256:")?;
    // The tag follows the last ':' after the last '/' (a registry may
    // carry a port: host:5000/repo:tag).
    let slash = name.rfind('/').map_or(0, |i| i + 1);
    let (repository, tag) = name[slash..]
        .rfind(':')
        .map(|i| (&name[..slash + i], &name[slash + i + 1..]))?;
    let hex = |s: &str| {
        s.len() == 64
            && s.chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    };
    (!repository.is_empty() && !tag.is_empty() && hex(digest)).then_some(Reference {
        repository,
        tag,
        digest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pinned_image_has_a_tag_and_a_well_formed_digest() {
        for image in ALL {
            let r = parse(image).unwrap_or_else(|| panic!("{image} is not repo:tag@sha256:<hex>"));
            assert!(!r.tag.is_empty(), "{image}");
        }
        let node = parse(KIND_NODE).unwrap();
        assert_eq!((node.repository, node.tag), ("kindest/node", "v1.33.4"));
        assert_eq!(
            parse(LOCALSTACK).map(|r| (r.repository, r.tag)),
            Some(("localstack/localstack", "4.12"))
        );
    }

    #[test]
    fn malformed_references_are_refused() {
        for bad in [
            "kindest/node:v1.33.4",
            "kindest/node@sha256:25a6018e48dfcaee478f4a59af81157a437f15e6e140bf103f85a2e7cd0cbbf2",
            "kindest/node:v1.33.4@sha256:25a6018e",
            "kindest/node:v1.33.4@sha256:25A6018E48DFCAEE478F4A59AF81157A437F15E6E140BF103F85A2E7CD0CBBF2",
            "host:5000/node@sha256:25a6018e48dfcaee478f4a59af81157a437f15e6e140bf103f85a2e7cd0cbbf2",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        assert_eq!(
            parse("host:5000/node:v1@sha256:25a6018e48dfcaee478f4a59af81157a437f15e6e140bf103f85a2e7cd0cbbf2")
                .map(|r| (r.repository, r.tag)),
            Some(("host:5000/node", "v1"))
        );
    }
}
