//! `countersign`: the server (`serve`) and the command line (`eval`, `check-workflow`, `demo`).
//! It parses arguments, then hands over to [`cli`] or starts the server from the library.

mod cli;

use clap::{Parser, Subcommand};
use server::{AppState, Config, Db, auth::Passwords};
use std::{path::PathBuf, process::ExitCode};

/// mimalloc: under load glibc's malloc cost a sixth of the server's CPU, much of it waiting on
/// its arena locks (see ARCHITECTURE.md, "Measured").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "countersign",
    version,
    about = "B2B order approvals, quotes and workflows, decided by one rules engine."
)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server: the JSON API and the app, on SQLite by default.
    Serve(Config),
    /// Route an order through a company's approval policy and print the verdict and why.
    ///
    /// COMPANY is a JSON file with the company's "policy" and "directory". ORDER is a routing
    /// request (buyer and order facts), or with --pricing a checkout request (buyer and cart),
    /// which is priced first.
    Eval {
        company: PathBuf,
        order: PathBuf,
        /// The seller's pricing data (catalog, price lists, tax rules): price ORDER's cart first.
        #[arg(long)]
        pricing: Option<PathBuf>,
        /// Print the answer as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check a workflow definition (JSON) and print its problems. Exits with 1 if it has errors
    /// (warnings alone exit with 0), for use in an admin's own CI.
    CheckWorkflow {
        file: PathBuf,
        /// Print the diagnostics as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run the seed scenarios on the demo company: carts priced and routed, a workflow checked
    /// and its timer evaluated.
    Demo,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = match args.command {
        Command::Eval { company, order, pricing, json } => {
            cli::eval(&company, &order, pricing.as_deref(), json)
        }
        Command::CheckWorkflow { file, json } => cli::check_workflow(&file, json),
        Command::Demo => cli::demo(),
        Command::Serve(config) => serve(config),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn serve(config: Config) -> Result<ExitCode, cli::CliError> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    if config.log_json {
        tracing_subscriber::fmt().with_env_filter(filter).json().init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    let runtime =
        tokio::runtime::Runtime::new().map_err(|e| cli::CliError::Engine(e.to_string()))?;
    // Held until the server stops.
    let _claim = server::db::claim_sqlite_file(&config.database_url)
        .map_err(|e| cli::CliError::Engine(e.to_string()))?;
    runtime.block_on(async move {
        let db = Db::open(&config.database_url, config.db_connections)
            .await
            .map_err(|e| cli::CliError::Engine(e.to_string()))?;
        let passwords = Passwords::new(false).map_err(cli::CliError::Engine)?;
        let bind = config.bind;
        let smtp = config.smtp_url.clone();
        let demo = config.demo;
        let database = server::db::describe(&config.database_url);
        let state = AppState::new(db, config, passwords);
        // The built-in order workflow, stored so that the editor lists it from the start.
        server::orders::workflow::ensure_default(&state)
            .await
            .map_err(|e| cli::CliError::Engine(e.to_string()))?;
        if demo {
            let loaded = server::demo::load(&state)
                .await
                .map_err(|e| cli::CliError::Engine(e.to_string()))?;
            match loaded {
                server::demo::Loaded::Now => println!("Demo data loaded."),
                server::demo::Loaded::Before => {
                    println!("The database already has data; the demo was not loaded again.")
                }
                server::demo::Loaded::Interrupted => {
                    return Err(cli::CliError::Engine(format!(
                        "the demo data in {database} is incomplete: an earlier start stopped \
                         while loading it. Start on a new database to load the whole demo \
                         (delete the SQLite file, or drop and create the PostgreSQL database)."
                    )));
                }
            }
        }
        match smtp {
            Some(url) => {
                let mailer = server::notifications::mailer(&url).map_err(cli::CliError::Engine)?;
                tokio::spawn(server::notifications::run_sender(state.clone(), mailer));
                tracing::info!("sending mail through {url}");
            }
            None => tracing::info!(
                "no SMTP server configured: mail stays in the outbox, readable in the app"
            ),
        }
        // Workflow timers: those that fell due while no server ran fire now, the rest on time.
        tokio::spawn(server::instances::run_timers(
            state.clone(),
            std::time::Duration::from_millis(250),
        ));
        // Approvers of orders that wait too long are reminded, once per interval.
        if state.config.approval_reminder_after.millis() > 0 {
            tokio::spawn(server::orders::run_reminders(
                state.clone(),
                state.config.approval_reminder_after,
                std::time::Duration::from_secs(30),
            ));
        }
        // Webhooks of workflow `call` actions, retried until delivered. A bad CA file stops
        // the start rather than every delivery.
        server::webhooks::client(&state.config).map_err(cli::CliError::Engine)?;
        tokio::spawn(server::webhooks::run_sender(
            state.clone(),
            std::time::Duration::from_secs(1),
        ));
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .map_err(|e| cli::CliError::Engine(format!("cannot listen on {bind}: {e}")))?;
        tracing::info!("Countersign listening on http://{bind}");
        println!("\nCountersign is running at http://{bind}");
        if demo {
            println!("Demo logins (password \"{}\"):", server::demo::PASSWORD);
            for login in server::demo::LOGINS {
                println!("  {:<28} {}", login.email, login.who);
            }
        }
        // With each connection's peer address, for the login rate limit per address.
        axum::serve(
            listener,
            server::app(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| cli::CliError::Engine(e.to_string()))?;
        Ok(ExitCode::SUCCESS)
    })
}
