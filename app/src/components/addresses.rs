//! Addresses people open: a link per battery UI, notebook or exposed
//! service, with whether the gateway routes it and whether its certificate
//! is issued. The dashboard lists them all; battery, project and service
//! pages list their own.

use bi_api::reach::{Address, ReachView};
use leptos::prelude::*;

use crate::components::feedback::StatusBadge;

/// One address: the link and its two statuses (their sentences as titles).
#[component]
pub fn AddressRow(address: Address, #[prop(optional)] show_label: bool) -> impl IntoView {
    let route = address.route.progress.word("routed").to_owned();
    let certificate = address.certificate.progress.word("issued").to_owned();
    view! {
        <li class="flex flex-wrap items-center gap-2 text-sm" data-testid="address">
            {show_label.then(|| view! { <span class="w-44 truncate text-slate-700">{address.label.clone()}</span> })}
            <a
                href=address.url.clone()
                target="_blank"
                rel="noopener"
                class="font-mono text-sky-700 hover:underline"
                data-testid=format!("open-{}", address.host)
            >
                {address.url.clone()}
            </a>
            <span title=address.route.words.clone() data-testid="route-status">
                <StatusBadge status=route />
            </span>
            <span class="text-xs text-slate-500" title=address.certificate.words.clone() data-testid="certificate-status">
                "certificate " <StatusBadge status=certificate />
            </span>
            {address.signed_in.then(|| view! { <span class="text-xs text-slate-500">"sign-in by SSO"</span> })}
        </li>
    }
}

/// Addresses, one per line.
#[component]
pub fn AddressList(addresses: Vec<Address>, #[prop(optional)] show_label: bool) -> impl IntoView {
    view! {
        <ul class="mt-2 space-y-1">
            {addresses
                .into_iter()
                .map(|address| view! { <AddressRow address show_label /> })
                .collect_view()}
        </ul>
    }
}

/// The whole reach: the gateway's domain, how to open the links, every
/// address, the CA certificate to trust, and the UIs nothing routes to.
#[component]
pub fn ReachSummary(reach: ReachView) -> impl IntoView {
    let ReachView {
        gateway,
        addresses,
        unreachable,
        cluster_error,
    } = reach;
    view! {
        {match gateway {
            Some(gateway) => view! {
                <p class="mt-2 text-sm text-slate-600">
                    "Domain " <span class="font-mono" data-testid="domain">{gateway.domain.clone()}</span>
                    {gateway.address.clone().map(|a| format!(" · gateway at {a}"))}
                </p>
                {addresses.is_empty().then(|| view! { <p class="mt-2 text-sm text-slate-500">"Nothing exposed yet."</p> })}
                <AddressList addresses show_label=true />
                <p class="mt-3 text-xs text-slate-500" data-testid="how-to-open">{gateway.how_to_open.clone()}</p>
                {(gateway.issuer == bi_model::reach::CertificateIssuer::BatteryCa).then(|| view! {
                    <p class="mt-1 text-xs">
                        <a href="/api/v1/ca.crt" class="text-sky-700 hover:underline" data-testid="ca-download" download="bi-ca.crt">
                            "Download the CA certificate"
                        </a>
                        <span class="text-slate-500">" (import it once so browsers trust these links)"</span>
                    </p>
                })}
            }
                .into_any(),
            None => view! {
                <p class="mt-2 text-sm text-slate-500">"No ingress gateway: nothing is reachable from outside the cluster."</p>
            }
                .into_any(),
        }}
        <ul class="mt-2 space-y-1 text-sm text-amber-800">
            {unreachable
                .into_iter()
                .map(|u| view! { <li data-testid="unreachable">{u.words}</li> })
                .collect_view()}
        </ul>
        {cluster_error.map(|error| view! { <p class="mt-2 text-xs text-slate-500">{format!("Statuses unknown: {error}")}</p> })}
    }
}
