//! `bi login`, `bi logout`, `bi whoami`, `bi setup`, `bi users …` and
//! `bi tokens …`: who the CLI acts as, and the accounts and tokens of a
//! control server.
//!
//! `bi login` exchanges a username and password for an API token named
//! `cli@<host>` and keeps it in `$XDG_CONFIG_HOME/bi/credentials.toml`
//! (readable by its owner only), by server URL. Every client command sends
//! it as `Authorization: Bearer`, unless `BI_TOKEN` (or `--token`) says
//! another.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::PathBuf;

use anyhow::{Context, bail};
use bi_api::auth::{
    AccountChange, AccountView, CreatedToken, Login, Me, NewAccount, NewToken, PasswordChange,
    Role, Setup, TokenView, last,
};
use serde::{Deserialize, Serialize};

use super::ApiClient;
use super::api::Token;
use super::output::{OutputFormat, Table, print};

/// The credentials file: one token per server URL.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Credentials {
    #[serde(default)]
    servers: BTreeMap<String, ServerCredentials>,
}

/// What the CLI keeps for one server.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ServerCredentials {
    username: String,
    token: String,
    token_id: i64,
}

/// Where `bi login` keeps tokens.
pub fn credentials_path() -> Option<PathBuf> {
    dirs::config_dir().map(|dir| dir.join("bi").join("credentials.toml"))
}

fn key(server: &url::Url) -> String {
    server.as_str().trim_end_matches('/').to_owned()
}

fn read_credentials() -> anyhow::Result<Credentials> {
    let Some(path) = credentials_path() else {
        return Ok(Credentials::default());
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            toml::from_str(&text).with_context(|| format!("while reading {}", path.display()))
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Credentials::default()),
        Err(err) => Err(err).with_context(|| format!("while reading {}", path.display())),
    }
}

fn write_credentials(credentials: &Credentials) -> anyhow::Result<PathBuf> {
    let path = credentials_path()
        .context("this system has no configuration directory for bi's credentials")?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("while creating {}", dir.display()))?;
    }
    let text = toml::to_string(credentials).context("while encoding the credentials")?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(&path)
        .with_context(|| format!("while writing {}", path.display()))?;
    std::io::Write::write_all(&mut file, text.as_bytes())
        .with_context(|| format!("while writing {}", path.display()))?;
    Ok(path)
}

/// The token for `server`: `explicit` (`--token`, `BI_TOKEN`), else the one
/// `bi login` kept.
pub fn token_for(server: &url::Url, explicit: Option<&str>) -> anyhow::Result<Option<Token>> {
    if let Some(token) = explicit.filter(|token| !token.is_empty()) {
        return Ok(Some(Token(token.to_owned())));
    }
    Ok(read_credentials()?
        .servers
        .get(&key(server))
        .map(|kept| Token(kept.token.clone())))
}

/// A password from the first line of standard input (`--password-stdin`),
/// else asked for at the terminal without echo.
pub fn read_password(from_stdin: bool, prompt: &str) -> anyhow::Result<String> {
    let password = if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("while reading the password from standard input")?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    } else {
        rpassword::prompt_password(prompt)
            .context("while asking for the password (use --password-stdin without a terminal)")?
    };
    if password.is_empty() {
        bail!("password: say a password");
    }
    Ok(password)
}

/// Options of `bi login`.
#[derive(Debug, Clone, clap::Args)]
pub struct LoginArgs {
    /// The account to sign in as.
    #[arg(long, short)]
    pub username: String,
    /// Read the password from the first line of standard input instead of asking.
    #[arg(long)]
    pub password_stdin: bool,
    /// The token's name on the server [default: cli@<this host>].
    #[arg(long)]
    pub token_name: Option<String>,
}

/// `bi login`: a token for this machine, kept for the server.
pub async fn login(api: &ApiClient, args: &LoginArgs) -> anyhow::Result<()> {
    let password = read_password(args.password_stdin, "password: ")?;
    let token_name = args.token_name.clone().unwrap_or_else(default_token_name);
    let created: CreatedToken = api
        .post(
            "/api/v1/login",
            &Login {
                username: args.username.clone(),
                password,
                token_name,
            },
        )
        .await
        .context("while signing in")?;
    keep(api, &args.username, &created)
}

fn keep(api: &ApiClient, username: &str, created: &CreatedToken) -> anyhow::Result<()> {
    let mut credentials = read_credentials()?;
    credentials.servers.insert(
        key(api.server()),
        ServerCredentials {
            username: username.to_owned(),
            token: created.token.clone(),
            token_id: created.view.id,
        },
    );
    let path = write_credentials(&credentials)?;
    eprintln!(
        "signed in to {} as {username}; the token {} is kept in {}",
        key(api.server()),
        created.view.name,
        path.display()
    );
    Ok(())
}

fn default_token_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "this-machine".to_owned());
    format!("cli@{host}")
}

/// `bi logout`: revokes the kept token on the server and forgets it.
pub async fn logout(api: &ApiClient) -> anyhow::Result<()> {
    let mut credentials = read_credentials()?;
    let Some(kept) = credentials.servers.remove(&key(api.server())) else {
        bail!("not signed in to {}", key(api.server()));
    };
    let signed_in = api.clone().with_token(Some(Token(kept.token.clone())));
    if let Err(err) = signed_in
        .delete::<TokenView>(&format!("/api/v1/tokens/{}", kept.token_id))
        .await
    {
        eprintln!("bi: the server did not revoke the token ({err}); forgetting it anyway");
    }
    write_credentials(&credentials)?;
    eprintln!("signed out of {}", key(api.server()));
    Ok(())
}

/// `bi whoami`.
pub async fn whoami(api: &ApiClient, format: OutputFormat) -> anyhow::Result<()> {
    let me: Me = api
        .get("/api/v1/me")
        .await
        .context("while asking who this is")?;
    print(format, &me, |me| format!("{}, {}\n", me.author(), me.role))
}

/// Options of `bi password`.
#[derive(Debug, Clone, clap::Args)]
pub struct PasswordArgs {
    /// Read the current password from the first line of standard input and
    /// the new one from the second, instead of asking.
    #[arg(long)]
    pub password_stdin: bool,
}

/// `bi password`: the signed-in user's own password; their browser
/// sessions end, their tokens (this machine's too) keep working.
pub async fn password(api: &ApiClient, args: &PasswordArgs) -> anyhow::Result<()> {
    let current_password = read_password(args.password_stdin, "current password: ")?;
    let new_password = read_password(args.password_stdin, "new password: ")?;
    if !args.password_stdin && read_password(false, "new password again: ")? != new_password {
        bail!("new password: the two differ; nothing changed");
    }
    let me: Me = api
        .post(
            "/api/v1/me/password",
            &PasswordChange {
                current_password,
                new_password,
            },
        )
        .await
        .context("while changing the password")?;
    println!(
        "changed the password of {}; their browser sessions ended",
        me.username
    );
    Ok(())
}

/// Options of `bi setup`.
#[derive(Debug, Clone, clap::Args)]
pub struct SetupArgs {
    /// The setup token `bi start` printed (in its link) or the data directory's `setup-token` file holds.
    #[arg(long)]
    pub token: String,
    /// The first admin's username.
    #[arg(long, short)]
    pub username: String,
    /// Read the password from the first line of standard input instead of asking.
    #[arg(long)]
    pub password_stdin: bool,
}

/// `bi setup`: the first admin, then signed in as it.
pub async fn setup(api: &ApiClient, args: &SetupArgs) -> anyhow::Result<()> {
    let password = read_password(args.password_stdin, "the new admin's password: ")?;
    let _: AccountView = api
        .post(
            "/api/v1/setup",
            &Setup {
                setup_token: args.token.clone(),
                username: args.username.clone(),
                password: password.clone(),
            },
        )
        .await
        .context("while creating the first admin")?;
    eprintln!("created the admin {}", args.username);
    let created: CreatedToken = api
        .post(
            "/api/v1/login",
            &Login {
                username: args.username.clone(),
                password,
                token_name: default_token_name(),
            },
        )
        .await
        .context("while signing in")?;
    keep(api, &args.username, &created)
}

/// `bi users …`.
#[derive(Debug, clap::Subcommand)]
pub enum UsersCommand {
    /// Every account.
    List(super::output::OutputArgs),
    /// Create an account.
    Add {
        /// Its username.
        username: String,
        /// What it may do.
        #[arg(long, value_parser = parse_role, default_value = "viewer")]
        role: Role,
        /// Read the password from the first line of standard input instead of asking.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Change an account.
    Set {
        /// The account.
        username: String,
        /// A new role.
        #[arg(long, value_parser = parse_role)]
        role: Option<Role>,
        /// Disable it: its sessions end and its tokens stop working.
        #[arg(long, conflicts_with = "enable")]
        disable: bool,
        /// Enable it again.
        #[arg(long)]
        enable: bool,
        /// Lift a sign-in lock-out.
        #[arg(long)]
        unlock: bool,
        /// Set a new password, read from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// Set a new password, asked for at the terminal.
        #[arg(long, conflicts_with = "password_stdin")]
        password: bool,
    },
    /// Remove an account with its sessions and tokens.
    Remove {
        /// The account.
        username: String,
    },
}

/// A role as the CLI's `--role` takes it.
pub(crate) fn parse_role(text: &str) -> Result<Role, String> {
    text.parse()
}

/// Runs `bi users …`.
pub async fn users(api: &ApiClient, command: UsersCommand) -> anyhow::Result<()> {
    match command {
        UsersCommand::List(output) => {
            let users: Vec<AccountView> = api
                .get("/api/v1/users")
                .await
                .context("while listing users")?;
            print(output.output, &users, |users| {
                let mut table = Table::new(["USERNAME", "ROLE", "STATE", "LAST SIGN-IN"]);
                for user in users {
                    table.row([
                        user.username.clone(),
                        user.role.to_string(),
                        user.state(),
                        last(user.last_sign_in_at.as_ref()),
                    ]);
                }
                table.render()
            })
        }
        UsersCommand::Add {
            username,
            role,
            password_stdin,
        } => {
            let password = read_password(password_stdin, &format!("{username}'s password: "))?;
            let created: AccountView = api
                .post(
                    "/api/v1/users",
                    &NewAccount {
                        username,
                        password,
                        role,
                    },
                )
                .await
                .context("while creating the user")?;
            println!("created {} ({})", created.username, created.role);
            Ok(())
        }
        UsersCommand::Set {
            username,
            role,
            disable,
            enable,
            unlock,
            password_stdin,
            password,
        } => {
            let password = if password_stdin || password {
                Some(read_password(
                    password_stdin,
                    &format!("{username}'s new password: "),
                )?)
            } else {
                None
            };
            let change = AccountChange {
                role,
                disabled: (disable || enable).then_some(disable),
                password,
                unlock,
            };
            if change == AccountChange::default() {
                bail!(
                    "nothing to change: give --role, --disable, --enable, --unlock or --password"
                );
            }
            let changed: AccountView = api
                .patch(&format!("/api/v1/users/{username}"), &change)
                .await
                .context("while changing the user")?;
            println!(
                "{}: {}{}",
                changed.username,
                changed.role,
                if changed.disabled { ", disabled" } else { "" }
            );
            Ok(())
        }
        UsersCommand::Remove { username } => {
            api.delete_empty(&format!("/api/v1/users/{username}"))
                .await
                .context("while removing the user")?;
            println!("removed {username}");
            Ok(())
        }
    }
}

/// `bi tokens …`.
#[derive(Debug, clap::Subcommand)]
pub enum TokensCommand {
    /// Your tokens (an admin's: everyone's).
    List(super::output::OutputArgs),
    /// Create a token and print it (the only time it is shown).
    Create {
        /// Its name, e.g. `ci`.
        name: String,
        /// Days until it expires [default: never].
        #[arg(long, value_name = "DAYS")]
        expires_in_days: Option<u32>,
        /// Create it for another account (admins only).
        #[arg(long, value_name = "USERNAME")]
        owner: Option<String>,
    },
    /// Revoke a token by its id (`bi tokens list` shows them).
    Revoke {
        /// The token's id.
        id: i64,
    },
}

/// Runs `bi tokens …`.
pub async fn tokens(api: &ApiClient, command: TokensCommand) -> anyhow::Result<()> {
    match command {
        TokensCommand::List(output) => {
            let tokens: Vec<TokenView> = api
                .get("/api/v1/tokens")
                .await
                .context("while listing tokens")?;
            print(output.output, &tokens, |tokens| {
                let mut table = Table::new(["ID", "NAME", "OWNER", "PREFIX", "LAST USED", "STATE"]);
                for token in tokens {
                    table.row([
                        token.id.to_string(),
                        token.name.clone(),
                        token.owner.clone(),
                        format!("{}…", token.prefix),
                        last(token.last_used_at.as_ref()),
                        token.state(),
                    ]);
                }
                table.render()
            })
        }
        TokensCommand::Create {
            name,
            expires_in_days,
            owner,
        } => {
            let created: CreatedToken = api
                .post(
                    "/api/v1/tokens",
                    &NewToken {
                        name,
                        expires_in_days,
                        owner,
                    },
                )
                .await
                .context("while creating the token")?;
            eprintln!(
                "created token {} (id {}) for {}; it is shown only now:",
                created.view.name, created.view.id, created.view.owner
            );
            println!("{}", created.token);
            Ok(())
        }
        TokensCommand::Revoke { id } => {
            let revoked: TokenView = api
                .delete(&format!("/api/v1/tokens/{id}"))
                .await
                .context("while revoking the token")?;
            println!(
                "revoked token {} ({}) of {}",
                revoked.id, revoked.name, revoked.owner
            );
            Ok(())
        }
    }
}
