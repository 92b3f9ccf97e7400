//! `wirewalk completions SHELL` (clap_complete) and `wirewalk man` (clap_mangen): both
//! made from the same clap definition as `--help`, so they cannot drift from it.

use std::io::Write;
use std::path::Path;

use clap::CommandFactory;

use super::{Cli, Failure};

pub fn completions(shell: clap_complete::Shell) -> Result<(), Failure> {
    let mut cmd = Cli::command();
    let mut out = super::output::raw_stdout();
    clap_complete::generate(shell, &mut cmd, "wirewalk", &mut out);
    out.flush()?;
    Ok(())
}

/// The page of `wirewalk` on standard output, or every page into `dir`.
pub fn man(dir: Option<&Path>) -> Result<(), Failure> {
    let cmd = Cli::command();
    match dir {
        None => {
            let mut out = super::output::raw_stdout();
            clap_mangen::Man::new(cmd).render(&mut out)?;
            out.flush()?;
        }
        Some(dir) => {
            clap_mangen::generate_to(cmd, dir).map_err(|e| {
                Failure::Message(
                    1,
                    format!("cannot write the pages into {}: {e}", dir.display()),
                )
            })?;
            super::output::say(&format!("wrote the manual pages into {}", dir.display()));
        }
    }
    Ok(())
}
