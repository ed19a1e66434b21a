//! The man pages, generated: cthelperd(8) from the clap definition
//! (clap_mangen: synopsis, options, and each subcommand's options), and
//! cthelperd.toml(5) from the configuration reference — the commented file
//! [`Config::to_toml`] writes for the defaults, so the page names every key,
//! its default and its help text, and cannot drift from the code.
//! `cthelperd man DIR` writes both (the Debian package runs it at build).

use crate::config::Config;

/// `(file name, roff text)` of both pages, for the CLI `cmd`.
pub fn pages(cmd: clap::Command) -> std::io::Result<Vec<(String, String)>> {
    Ok(vec![
        ("cthelperd.8".into(), ascii(&daemon_page(cmd)?)),
        (
            "cthelperd.toml.5".into(),
            ascii(&config_page(&Config::default())),
        ),
    ])
}

/// The pages in plain ASCII: help texts and comments use a few typographic
/// characters (an ellipsis, arrows, dashes) that man(1) under a C or POSIX
/// locale cannot render (`troff: can't find special character 'u2026'`), so
/// each becomes its roff escape or an ASCII spelling; anything else outside
/// ASCII becomes `?` (the test below keeps that from happening unnoticed).
pub fn ascii(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            c if c.is_ascii() => o.push(c),
            '\u{2026}' => o.push_str("\\&..."),
            '\u{2192}' => o.push_str("\\(->"),
            '\u{2190}' => o.push_str("\\(<-"),
            '\u{2014}' => o.push_str("\\(em"),
            '\u{2013}' => o.push_str("\\(en"),
            '\u{2264}' => o.push_str("\\(<="),
            '\u{2265}' => o.push_str("\\(>="),
            '\u{00d7}' => o.push_str("\\(mu"),
            '\u{2018}' | '\u{2019}' => o.push('\''),
            '\u{201c}' | '\u{201d}' => o.push_str("\\(dq"),
            '\u{00a0}' => o.push_str("\\ "),
            _ => o.push('?'),
        }
    }
    o
}

/// Escapes text for roff: backslashes, hyphens, a leading dot or quote.
pub fn esc(s: &str) -> String {
    let t = s.replace('\\', "\\e").replace('-', "\\-");
    if t.starts_with('.') || t.starts_with('\'') {
        format!("\\&{t}")
    } else {
        t
    }
}

fn daemon_page(cmd: clap::Command) -> std::io::Result<String> {
    let mut out: Vec<u8> = Vec::new();
    let man = clap_mangen::Man::new(cmd.clone())
        .section("8")
        .manual("System Administration");
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    out.extend_from_slice(DESCRIPTION.as_bytes());
    man.render_options_section(&mut out)?;
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let opts: Vec<_> = sub
            .get_arguments()
            .filter(|a| !a.is_global_set() && !a.is_hide_set())
            .collect();
        let text =
            |s: Option<&clap::builder::StyledStr>| s.map(|s| s.to_string()).unwrap_or_default();
        out.extend_from_slice(
            format!(
                ".SH \"{}\"\n",
                esc(&format!("cthelperd {}", sub.get_name()).to_uppercase())
            )
            .as_bytes(),
        );
        let about = text(sub.get_long_about().or(sub.get_about()));
        out.extend_from_slice(format!("{}\n", esc(&about)).as_bytes());
        for a in opts {
            let name = match (a.get_long(), a.get_short()) {
                (Some(l), Some(s)) => format!("\\fB\\-{s}\\fR, \\fB\\-\\-{}\\fR", esc(l)),
                (Some(l), None) => format!("\\fB\\-\\-{}\\fR", esc(l)),
                (None, _) => format!("\\fI{}\\fR", esc(a.get_id().as_str()).to_uppercase()),
            };
            let values: Vec<String> = a
                .get_possible_values()
                .iter()
                .map(|v| v.get_name().to_string())
                .collect();
            let mut help = text(a.get_long_help().or(a.get_help()));
            if !values.is_empty() && a.get_action().takes_values() {
                help.push_str(&format!(" [possible values: {}]", values.join(", ")));
            }
            out.extend_from_slice(format!(".TP\n{name}\n{}\n", esc(&help)).as_bytes());
        }
    }
    out.extend_from_slice(TAIL.as_bytes());
    man.render_version_section(&mut out)?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

const DESCRIPTION: &str = r#".SH DESCRIPTION
cthelperd replaces the kernel's conntrack helpers (FTP, SIP, TFTP, IRC DCC, Amanda, H.323, SNMP) in
userspace. \fBcthelperd run\fR registers each enabled helper over nfnetlink_cthelper, serves the
NFQUEUE the kernel hands the helped connections' packets to, rewrites payloads under NAT and creates
the expectations for the related connections. \fBcthelperd nft\fR prints the ruleset that attaches
the helpers to their ports; load it after the helpers are registered (the systemd unit does).
.PP
Without \fB\-\-config\fR the kernel modules' defaults apply; see \fBcthelperd.toml\fR(5).
"#;

const TAIL: &str = r#".SH SIGNALS
.TP
\fBSIGTERM\fR, \fBSIGINT\fR
Disable the helpers (their packets then pass unchanged), finish in-flight packets, unbind the
queues and remove the registrations a ruleset does not reference.
.TP
\fBSIGHUP\fR
Reload, as \fBcthelperd reload\fR: re-read the configuration file. An invalid file changes nothing
and one log line names the error. Policies, parameters, ports and enabled helpers change in place
(registrations are updated with CTHELPER_NEW; with \fBrun \-\-ruleset\fR \fIFILE\fR the daemon
writes and loads the new ruleset). \fBqueue_maxlen\fR and \fBmetrics\fR take effect at the next
start.
.SH FILES
.TP
\fI/etc/cthelperd.toml\fR
The configuration the systemd unit passes when it exists.
.TP
\fI/run/cthelperd/control\fR
The control socket (mode 0600) \fBstatus\fR and \fBreload\fR use.
.TP
\fI/run/cthelperd/cthelperd.nft\fR
The ruleset of the running configuration (written by the unit and by reloads).
.TP
\fI/proc/net/netfilter/nfnetlink_queue\fR
The kernel's queue counters \fBstatus\fR shows.
.SH EXIT STATUS
0 on success; 1 on an error, which one line names (for \fBstatus\fR and \fBreload\fR: also when
no daemon runs).
.SH SEE ALSO
\fBcthelperd.toml\fR(5), \fBnft\fR(8), \fBconntrack\fR(8), \fBconntrackd\fR(8), \fBsystemd.service\fR(5)
"#;

/// cthelperd.toml(5): the reference the configuration writes of itself.
pub fn config_page(defaults: &Config) -> String {
    let mut o = String::new();
    o.push_str(&format!(
        ".TH CTHELPERD.TOML 5 \"\" \"cthelperd {}\" \"File Formats\"\n",
        env!("CARGO_PKG_VERSION")
    ));
    o.push_str(".SH NAME\ncthelperd.toml \\- configuration of cthelperd(8)\n");
    o.push_str(CONFIG_INTRO);
    o.push_str(".SH KEYS AND DEFAULTS\n");
    o.push_str("Every key, with its default (the kernel module's) and what it means, as \\fBcthelperd check\\-config\\fR prints them.\n");
    for line in defaults.to_toml().lines() {
        let (code, help) = match line.split_once(" # ") {
            Some((c, h)) => (c.trim_end(), h.trim()),
            None => (line.trim_end(), ""),
        };
        if code.is_empty() && help.is_empty() {
            continue;
        }
        if let Some(c) = code.strip_prefix("# ") {
            o.push_str(&format!("{}\n", esc(c)));
        } else if code.starts_with('[') {
            let heading = if code.contains(".policy.") {
                ".SS"
            } else {
                ".SH"
            };
            let h = if heading == ".SH" && code.starts_with("[helper") {
                ".SS"
            } else {
                heading
            };
            o.push_str(&format!("{h} \"{}\"\n", esc(code).replace('"', "\\(dq")));
            if !help.is_empty() {
                o.push_str(&format!("{}\n", esc(help)));
            }
        } else if let Some((k, v)) = code.split_once(" = ") {
            o.push_str(&format!(
                ".TP\n\\fB{}\\fR = {}\n{}\n",
                esc(k),
                esc(v),
                esc(help)
            ));
        }
    }
    o.push_str(CONFIG_TAIL);
    o
}

const CONFIG_INTRO: &str = r#".SH SYNOPSIS
\fI/etc/cthelperd.toml\fR
.SH DESCRIPTION
A TOML file; every key is optional and a missing file is the defaults. \fB[daemon]\fR holds the
daemon's settings, \fB[helper.\fR\fINAME\fR\fB]\fR one helper's: \fBenabled\fR, \fBports\fR,
\fBqueue\fR, \fBqueues\fR and its parameters (those of the kernel module of the same name), and
\fB[helper.\fR\fINAME\fR\fB.policy.\fR\fICLASS\fR\fB]\fR its expectation classes (\fBmax_expected\fR,
\fBtimeout\fR). A dotted helper name is quoted: \fB[helper."Q.931"]\fR. Unknown keys and
out-of-range values are refused with their line. \fBcthelperd check\-config\fR \fIFILE\fR checks a
file and prints the whole configuration it gives.
.PP
A running daemon re-reads the file on SIGHUP or \fBcthelperd reload\fR.
.PP
\fBqueues\fR = \fIN\fR spreads one helper over N queues and threads: N instances are registered
with the kernel (\fBftp\fR on \fBqueue\fR, \fBftp\-1\fR on \fBqueue\fR+1 …, same policies and
parameters), and \fBcthelperd nft\fR assigns each new connection one of them with an nft jhash map.
Give the helper a \fBqueue\fR range no other helper uses.
.SH EXAMPLE
.nf
[helper.ftp]
ports = [21, 2121]
[helper.ftp.policy.ftp]
max_expected = 1
timeout = 300

[helper.tftp]
enabled = false
.fi
"#;

const CONFIG_TAIL: &str = r#".SH SEE ALSO
\fBcthelperd\fR(8)
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_page_names_every_key() {
        let p = config_page(&Config::default());
        assert!(p.contains(".SS \"[helper.ftp]\""), "{p}");
        assert!(p.contains("\\fBloose\\fR = false"), "{p}");
        assert!(p.contains("\\fBsip_timeout\\fR = 3600"), "{p}");
        assert!(p.contains("\\fBhold_ms\\fR = 500"), "{p}");
        assert!(p.contains("[helper.\\(dqQ.931\\(dq]"), "{p}");
    }

    #[test]
    fn pages_are_ascii_without_unknown_characters() {
        // man -l under LANG=C warns on any character troff cannot find;
        // the Debian package scenario fails on a warning.
        let cfg = config_page(&Config::default());
        let unknown: Vec<char> = cfg
            .chars()
            .filter(|c| !c.is_ascii() && ascii(&c.to_string()) == "?")
            .collect();
        assert!(unknown.is_empty(), "map these in ascii(): {unknown:?}");
        assert!(ascii(&cfg).is_ascii());
        assert_eq!(
            ascii("ftp-1 \u{2026} a \u{2192} b"),
            "ftp-1 \\&... a \\(-> b"
        );
    }

    #[test]
    fn escapes() {
        assert_eq!(esc(".x-y\\"), "\\&.x\\-y\\e");
    }
}
