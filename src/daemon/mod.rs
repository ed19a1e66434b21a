//! `cthelperd run`: the kernel path (placeholder until the netlink layer lands).

use crate::config::Config;
use anyhow::{bail, Result};
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(_cfg: Config, _args: Args) -> Result<ExitCode> {
    bail!("the kernel path is not built yet")
}
