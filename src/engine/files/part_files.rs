//! What a given-up put left on its hosts: the part files a cancelled or
//! failed job kept so it could be resumed. Once the user clears the job it
//! can never be resumed, so they go.

use crate::engine::files::copy_job::{CopySpec, Prepared};
use crate::engine::files::transfer::part_name;
use crate::engine::files::tree::EntryKind;
use crate::engine::link::HostLink;

fn name_of(p: &str) -> &str {
    p.trim_end_matches('/').rsplit('/').next().unwrap_or(p)
}

/// The part file of every file `spec` puts, as the copy names them.
pub fn put_parts(spec: &CopySpec, prepared: &Prepared) -> Vec<String> {
    let mut out = Vec::new();
    for (src, entries) in &prepared.scans {
        let rename = spec.renames.get(name_of(&src.to_string_lossy()));
        for e in entries
            .iter()
            .filter(|e| matches!(e.kind, EntryKind::File { .. }))
        {
            let path = e.rel.renamed(rename).under(&spec.dest);
            let part = match path.rsplit_once('/') {
                Some((dir, name)) => format!("{dir}/{}", part_name(name)),
                None => part_name(&path),
            };
            out.push(part);
        }
    }
    out
}

/// Remove `parts` on `link`'s host; how many went. One that is not there
/// (never started, or finished) is no error, and a link at the name is
/// removed as a link (SFTP remove never follows it).
pub async fn remove_remote(link: &HostLink, parts: &[String]) -> usize {
    let Ok(sftp) = link.sftp().await else {
        return 0;
    };
    let mut removed = 0;
    for p in parts {
        if sftp.raw().remove(p.as_str()).await.is_ok() {
            removed += 1;
        }
    }
    removed
}
