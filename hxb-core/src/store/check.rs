//! Precondition checks shared by every [`StateStore`](super::StateStore) implementation, so
//! both give exactly the same answers.

use super::Precondition;
use crate::error::{Error, Result};

/// Check `expect` for `(collection, key)` whose current revision is `current` (`None` when the
/// record is absent).
pub(super) fn check(
    collection: &str,
    key: &str,
    expect: Precondition,
    current: Option<u64>,
) -> Result<()> {
    match (expect, current) {
        (Precondition::None, _) => Ok(()),
        (Precondition::Absent, None) => Ok(()),
        (Precondition::Absent, Some(_)) => Err(Error::already_exists(collection, key)),
        (Precondition::Exists, Some(_)) => Ok(()),
        (Precondition::Exists, None) => Err(Error::not_found(collection, key)),
        (Precondition::Revision(want), Some(have)) if want == have => Ok(()),
        (Precondition::Revision(want), Some(have)) => Err(Error::conflict(
            collection,
            key,
            format!("expected revision {want}, found revision {have}"),
        )),
        (Precondition::Revision(want), None) => Err(Error::conflict(
            collection,
            key,
            format!("expected revision {want}, found no record"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn every_precondition_maps_to_its_kind() {
        let kind = |e: Precondition, c| check("orgs", "acme", e, c).map_err(|e| e.kind());
        assert_eq!(kind(Precondition::None, None), Ok(()));
        assert_eq!(kind(Precondition::None, Some(3)), Ok(()));
        assert_eq!(kind(Precondition::Absent, None), Ok(()));
        assert_eq!(
            kind(Precondition::Absent, Some(1)),
            Err(ErrorKind::AlreadyExists)
        );
        assert_eq!(kind(Precondition::Exists, Some(1)), Ok(()));
        assert_eq!(kind(Precondition::Exists, None), Err(ErrorKind::NotFound));
        assert_eq!(kind(Precondition::Revision(2), Some(2)), Ok(()));
        assert_eq!(
            kind(Precondition::Revision(2), Some(3)),
            Err(ErrorKind::Conflict)
        );
        assert_eq!(
            kind(Precondition::Revision(2), None),
            Err(ErrorKind::Conflict)
        );
    }

    #[test]
    fn conflict_names_collection_key_and_revisions() {
        let msg = check("orgs", "acme", Precondition::Revision(2), Some(5))
            .unwrap_err()
            .to_string();
        for part in ["orgs", "acme", "expected revision 2", "found revision 5"] {
            assert!(msg.contains(part), "{msg:?} lacks {part:?}");
        }
    }
}
