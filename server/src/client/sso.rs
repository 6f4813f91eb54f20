//! `bi sso …`.

use anyhow::{Context, bail};
use bi_api::auth::Role;
use bi_api::sso::{NewSsoUser, SsoUserChange, SsoView};

use super::api::ApiClient;
use super::auth::{parse_role, read_password};
use super::output::{OutputFormat, Table, print};
use crate::api::sso::InitialPassword;

/// `bi sso users …`.
#[derive(Debug, clap::Subcommand)]
pub enum SsoUsersCommand {
    /// Every user of the realm, with the bi role their groups give.
    List(super::output::OutputArgs),
    /// Add a user with a temporary password (asked for, or --password-stdin):
    /// Keycloak asks for a new one at their first sign-in.
    Add {
        /// Their username.
        username: String,
        /// Their bi role (the group bi-admins, bi-editors or bi-viewers).
        #[arg(long, value_parser = parse_role, default_value = "viewer")]
        role: Role,
        /// In none of bi's groups: a user of the other UIs only.
        #[arg(long, conflicts_with = "role")]
        no_role: bool,
        /// Their email.
        #[arg(long)]
        email: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Change a user.
    Set {
        /// The user.
        username: String,
        /// Their bi role.
        #[arg(long, value_parser = parse_role)]
        role: Option<Role>,
        /// Out of all of bi's groups.
        #[arg(long, conflicts_with = "role")]
        no_role: bool,
        /// Stop them signing in.
        #[arg(long, conflicts_with = "enable")]
        disable: bool,
        /// Let them sign in again.
        #[arg(long)]
        enable: bool,
        /// A new temporary password (asked for, or --password-stdin).
        #[arg(long)]
        reset_password: bool,
        /// Read that password from the first line of standard input.
        #[arg(long, requires = "reset_password")]
        password_stdin: bool,
    },
}

/// Runs `bi sso users …`.
pub async fn users(api: &ApiClient, command: SsoUsersCommand) -> anyhow::Result<()> {
    match command {
        SsoUsersCommand::List(output) => {
            let view = read(api).await?;
            print(output.output, &view.users, |users| {
                let mut table = Table::new(["USERNAME", "EMAIL", "ROLE", "STATE", "NEXT SIGN-IN"]);
                for user in users {
                    table.row([
                        user.username.clone(),
                        user.email.clone().unwrap_or_else(|| "-".to_owned()),
                        user.role.map_or_else(|| "-".to_owned(), |r| r.to_string()),
                        if user.enabled { "enabled" } else { "disabled" }.to_owned(),
                        user.required_actions.join(","),
                    ]);
                }
                table.render()
            })
        }
        SsoUsersCommand::Add {
            username,
            role,
            no_role,
            email,
            password_stdin,
        } => {
            let password = read_password(
                password_stdin,
                &format!("{username}'s temporary password: "),
            )?;
            let _: SsoView = api
                .post(
                    "/api/v1/sso/users",
                    &NewSsoUser {
                        username: username.clone(),
                        email,
                        role: (!no_role).then_some(role),
                        password,
                    },
                )
                .await
                .context("while adding the user")?;
            println!(
                "added {username} to Keycloak: they change the password at their first sign-in"
            );
            Ok(())
        }
        SsoUsersCommand::Set {
            username,
            role,
            no_role,
            disable,
            enable,
            reset_password,
            password_stdin,
        } => {
            let mut changes = Vec::new();
            if disable || enable {
                changes.push(if disable {
                    SsoUserChange::Disable
                } else {
                    SsoUserChange::Enable
                });
            }
            if role.is_some() || no_role {
                changes.push(SsoUserChange::SetRole { role });
            }
            if reset_password {
                let password = read_password(
                    password_stdin,
                    &format!("{username}'s new temporary password: "),
                )?;
                changes.push(SsoUserChange::ResetPassword { password });
            }
            if changes.is_empty() {
                bail!(
                    "nothing to change: give --role, --no-role, --disable, --enable or --reset-password"
                );
            }
            for change in changes {
                let _: SsoView = api
                    .post(&format!("/api/v1/sso/users/{username}"), &change)
                    .await
                    .context("while changing the user")?;
            }
            println!("changed {username} in Keycloak");
            Ok(())
        }
    }
}

/// `bi sso clients`.
pub async fn clients(api: &ApiClient, format: OutputFormat) -> anyhow::Result<()> {
    let view = read(api).await?;
    print(format, &view.clients, |clients| {
        let mut table = Table::new(["CLIENT", "ENABLED", "KEPT BY", "REDIRECTS TO"]);
        for client in clients {
            table.row([
                client.client_id.clone(),
                client.enabled.to_string(),
                if client.managed { "bi" } else { "-" }.to_owned(),
                client.redirect_uris.join(" "),
            ]);
        }
        table.render()
    })
}

async fn read(api: &ApiClient) -> anyhow::Result<SsoView> {
    let view: SsoView = api
        .get("/api/v1/sso")
        .await
        .context("while reading Keycloak")?;
    if let Some(problem) = &view.problem {
        bail!("cannot read Keycloak: {problem}");
    }
    Ok(view)
}

/// `bi sso initial-password`: prints the password (alone on standard
/// output, for scripts) and, on standard error, who it is for.
pub async fn initial_password(api: &ApiClient) -> anyhow::Result<()> {
    let found: InitialPassword = api
        .get("/api/v1/sso/initial-password")
        .await
        .context("while reading the initial password")?;
    eprintln!(
        "the initial password of {} in the realm {} (Keycloak asks for a new one at the first sign-in):",
        found.username, found.realm
    );
    println!("{}", found.password);
    Ok(())
}
