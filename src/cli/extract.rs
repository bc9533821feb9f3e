//! `dap extract`: a source from `dap.toml` (`[sources.NAME]`) or the command line, with flags
//! overriding the file. See [`crate::extract`] for what a run guarantees.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;

use clap::Args;

use crate::engine::EngineOptions;
use crate::extract::{self, Event, ExtractRequest, Paginate, SourceConfig};

#[derive(Debug, Clone, Args)]
pub struct ExtractArgs {
    /// Source name: a `[sources.NAME]` table of dap.toml, or the landing folder name with --url.
    pub source: String,
    /// The first page's URL (overrides the source's `url`).
    #[arg(long)]
    pub url: Option<String>,
    /// Query parameter KEY=VALUE (repeatable; `${VAR}` reads the environment).
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,
    /// Header 'NAME: VALUE' (repeatable; `${VAR}` reads the environment and is never printed).
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// Dotted path of the records array in each page, e.g. `data`.
    #[arg(long)]
    pub records: Option<String>,
    /// Pagination: link (default), none, page, or a TOML inline table such as
    /// '{type = "cursor", param = "cursor", path = "meta.next"}' (types: page, offset, cursor, next_url).
    #[arg(long)]
    pub paginate: Option<String>,
    /// Stop after this many pages.
    #[arg(long)]
    pub max_pages: Option<u64>,
    /// Requests per second.
    #[arg(long)]
    pub rate_limit: Option<f64>,
    /// Seconds per request.
    #[arg(long)]
    pub timeout: Option<f64>,
    /// Retries on 429, 5xx and connection errors.
    #[arg(long)]
    pub retries: Option<u32>,
    /// First retry wait in seconds (doubled each retry, with jitter).
    #[arg(long)]
    pub backoff: Option<f64>,
    /// Run id (landing folder); re-running an id resumes it without duplicating pages.
    #[arg(long)]
    pub run_id: Option<String>,
    /// Load the landed pages into this table (`dataset.table`) after a complete run.
    #[arg(long)]
    pub load: Option<String>,
    /// With --load: replace the table instead of appending.
    #[arg(long, requires = "load")]
    pub replace: bool,
}

/// Runs `dap extract`; returns the exit code.
pub async fn run(args: ExtractArgs, project_dir: Option<&Path>, opts: EngineOptions) -> i32 {
    let config = match source_config(&args, project_dir) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let Ok(engine) = super::start_engine(opts).await else {
        return 1;
    };
    let spinner = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    });
    let totals = Arc::new(parking_lot::Mutex::new((0u64, 0u64)));
    let notify = {
        let spinner = spinner.clone();
        let totals = totals.clone();
        move |e: Event| match e {
            Event::Page { records, bytes, .. } => {
                let mut t = totals.lock();
                t.0 += records;
                t.1 += bytes;
                if let Some(s) = &spinner {
                    s.set_message(format!(
                        "{} records, {:.1} MB",
                        t.0,
                        t.1 as f64 / 1_000_000.0
                    ));
                }
            }
            Event::Retry(msg) => match &spinner {
                Some(s) => s.println(format!("retrying: {msg}")),
                None => eprintln!("retrying: {msg}"),
            },
        }
    };
    let req = ExtractRequest {
        source: args.source.clone(),
        load: args.load.clone().or_else(|| config.load.clone()),
        config,
        run_id: args.run_id.clone(),
        replace: args.replace,
        notify: Arc::new(notify),
    };
    let result = extract::extract(&engine, &req, &|var| std::env::var(var).ok()).await;
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
    match result {
        Ok(summary) => {
            eprintln!("{summary}");
            if let Some(note) = &summary.already_loaded {
                eprintln!("{note}");
            }
            if let Some(load) = &summary.load {
                eprintln!("{load}");
            }
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

/// The source from dap.toml (when it declares one by that name) with the flags applied.
fn source_config(args: &ExtractArgs, project_dir: Option<&Path>) -> Result<SourceConfig, String> {
    let declared = match project_dir {
        Some(dir) => {
            let path = dir.join(crate::config::FILE_NAME);
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            extract::parse_sources(&text).map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => Default::default(),
    };
    let mut cfg = match (declared.get(&args.source), &args.url) {
        (Some(c), _) => c.clone(),
        (None, Some(_)) => SourceConfig::default(),
        (None, None) => {
            let known: Vec<&str> = declared.keys().map(String::as_str).collect();
            return Err(if known.is_empty() {
                format!(
                    "no source `{}`: declare [sources.{}] in dap.toml or give --url",
                    args.source, args.source
                )
            } else {
                format!(
                    "no source `{}` in dap.toml (declared: {}); or give --url",
                    args.source,
                    known.join(", ")
                )
            });
        }
    };
    if let Some(u) = &args.url {
        cfg.url = u.clone();
    }
    for p in &args.params {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| format!("--param `{p}`: expected KEY=VALUE"))?;
        cfg.params.insert(k.to_string(), v.to_string());
    }
    for h in &args.headers {
        let (k, v) = h
            .split_once(':')
            .ok_or_else(|| "--header: expected 'NAME: VALUE'".to_string())?;
        cfg.headers
            .insert(k.trim().to_string(), v.trim().to_string());
    }
    if let Some(p) = &args.paginate {
        cfg.paginate = parse_paginate(p)?;
    }
    cfg.records = args.records.clone().or(cfg.records);
    cfg.max_pages = args.max_pages.or(cfg.max_pages);
    cfg.rate_limit = args.rate_limit.or(cfg.rate_limit);
    cfg.timeout = args.timeout.or(cfg.timeout);
    cfg.retries = args.retries.or(cfg.retries);
    cfg.backoff = args.backoff.or(cfg.backoff);
    Ok(cfg)
}

/// `link`, `none`, `page`, or a TOML inline table `{type = "...", ...}`.
fn parse_paginate(text: &str) -> Result<Paginate, String> {
    let t = text.trim();
    let table = if t.starts_with('{') {
        format!("paginate = {t}")
    } else {
        format!("paginate = {{ type = \"{}\" }}", t.replace('-', "_"))
    };
    #[derive(serde::Deserialize)]
    struct Wrap {
        paginate: Paginate,
    }
    toml::from_str::<Wrap>(&table)
        .map(|w| w.paginate)
        .map_err(|e| format!("--paginate `{text}`: {}", e.message()))
}

#[cfg(test)]
mod tests {
    use super::parse_paginate;
    use crate::extract::Paginate;

    #[test]
    fn paginate_flag() {
        assert_eq!(parse_paginate("none"), Ok(Paginate::None));
        assert_eq!(
            parse_paginate("{type = \"next_url\", path = \"links.next\"}"),
            Ok(Paginate::NextUrl {
                path: "links.next".into()
            })
        );
        assert!(parse_paginate("cursor").is_err());
        assert!(parse_paginate("sideways").is_err());
    }
}
