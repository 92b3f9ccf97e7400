//! Command line: clap arguments resolved once into plain settings, then the pipeline runs.

/// Runs wirewalk with the process's arguments and returns the exit code.
pub fn run() -> i32 {
    0
}
