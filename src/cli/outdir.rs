//! `--out-dir`: each host's raw, unmodified stdout and stderr in files.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::CliError;
use crate::text::file_stem;

pub struct OutDir {
    files: Vec<[BufWriter<File>; 2]>,
    paths: Vec<PathBuf>,
}

impl OutDir {
    /// Create the directory and one empty pair of files per host up front,
    /// so a host that printed nothing still has (empty) files, like pssh -o.
    pub fn create(dir: &Path, labels: &[String]) -> Result<OutDir, CliError> {
        let io = |what: String| move |cause| CliError::Io { what, cause };
        std::fs::create_dir_all(dir).map_err(io(format!("cannot create {}", dir.display())))?;
        let mut files = Vec::with_capacity(labels.len());
        let mut paths = Vec::new();
        for label in labels {
            let base = file_stem(label);
            let mut pair = Vec::with_capacity(2);
            for ext in ["stdout", "stderr"] {
                let p = dir.join(format!("{base}.{ext}"));
                let f = File::create(&p).map_err(io(format!("cannot create {}", p.display())))?;
                pair.push(BufWriter::new(f));
                paths.push(p);
            }
            let [o, e]: [BufWriter<File>; 2] = pair
                .try_into()
                .map_err(|_| CliError::BadArg("internal: file pair".into()))?;
            files.push([o, e]);
        }
        Ok(OutDir { files, paths })
    }

    pub fn write(&mut self, host: usize, stderr: bool, data: &[u8]) -> Result<(), CliError> {
        let idx = host * 2 + usize::from(stderr);
        self.files[host][usize::from(stderr)]
            .write_all(data)
            .map_err(|cause| CliError::Io {
                what: format!("cannot write {}", self.paths[idx].display()),
                cause,
            })
    }

    pub fn flush(&mut self) -> Result<(), CliError> {
        for (i, f) in self.files.iter_mut().flatten().enumerate() {
            f.flush().map_err(|cause| CliError::Io {
                what: format!("cannot write {}", self.paths[i].display()),
                cause,
            })?;
        }
        Ok(())
    }
}
