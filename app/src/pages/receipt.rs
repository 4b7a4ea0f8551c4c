//! Check-in receipts: the student's page of one (`/receipt?r=...`: what it says, its text to
//! keep or download, and a QR code that opens the check on the teacher's phone), and the
//! teacher's or admin's check (`/verify?r=...&session=...`: valid, forged, or for another
//! session). Both are plain GET pages: they work before the script loads.

use attn_types::{FailReason, Status};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::components::paths::encode_component;
use crate::components::status::{status_class, status_text};
use crate::error::AppError;
use crate::use_lang;

/// What a receipt says, as its pages show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptView {
    /// The session.
    pub session_id: String,
    /// Its lesson.
    pub lesson_name: String,
    /// The student's number.
    pub student_number: String,
    /// The student's name.
    pub student_name: String,
    /// "23.11.2026 09:03:12".
    pub time: String,
    /// The outcome.
    pub status: Status,
    /// Why a check failed.
    pub reason: Option<FailReason>,
}

#[cfg(feature = "ssr")]
fn view_of(ctx: &attn::Ctx, r: &attn::receipts::Receipt) -> ReceiptView {
    ReceiptView {
        session_id: r.session_id.to_string(),
        lesson_name: r.lesson_name.clone(),
        student_number: r.student_number.clone(),
        student_name: r.student_name.clone(),
        time: crate::ssr::local(ctx, r.at, "%d.%m.%Y %H:%M:%S"),
        status: r.status,
        reason: r.fail_reason,
    }
}

/// A receipt the student keeps: what it says, and the QR code of its check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShownReceipt {
    /// What it says.
    pub receipt: ReceiptView,
    /// The QR code (SVG) of the check page's address with this receipt.
    pub qr_svg: String,
}

/// What a receipt says, if this server signed it (`None` otherwise). Anyone: a receipt tells
/// no more than its holder already has.
#[server(endpoint = "read_receipt")]
pub async fn read_receipt(receipt: String) -> Result<Option<ShownReceipt>, AppError> {
    use crate::ssr;
    let ctx = ssr::ctx()?;
    let Some(r) = attn::receipts::read(&ctx, &receipt)
        .await
        .map_err(ssr::fail)?
    else {
        return Ok(None);
    };
    let check = format!(
        "{}/verify?r={}",
        ssr::public_base(&ctx),
        encode_component(receipt.trim())
    );
    Ok(Some(ShownReceipt {
        receipt: view_of(&ctx, &r),
        qr_svg: attn::codes::qr_svg(&check).unwrap_or_default(),
    }))
}

/// The outcome of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum VerdictKind {
    /// Signed here, for the session asked about (or any).
    Valid,
    /// Signed here, for another session.
    OtherSession,
    /// Not signed here, or changed.
    Forged,
}

impl VerdictKind {
    fn as_str(self) -> &'static str {
        match self {
            VerdictKind::Valid => "valid",
            VerdictKind::OtherSession => "other_session",
            VerdictKind::Forged => "forged",
        }
    }
}

/// A check of a receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checked {
    /// What the check found.
    pub verdict: VerdictKind,
    /// What the receipt says, when it is signed here.
    pub receipt: Option<ReceiptView>,
}

/// Checks a receipt a student shows, for the session `session_id` when given. Teachers and
/// admins.
#[server(endpoint = "verify_receipt")]
pub async fn verify_receipt(
    receipt: String,
    #[server(default)] session_id: String,
) -> Result<Checked, AppError> {
    use crate::ssr;
    use attn::receipts::Verdict;
    let (ctx, _, caller) = ssr::current().await.map_err(ssr::fail)?;
    let verdict = attn::receipts::verify(&ctx, caller.as_ref(), &receipt, Some(&session_id))
        .await
        .map_err(ssr::fail)?;
    Ok(match verdict {
        Verdict::Valid(r) => Checked {
            verdict: VerdictKind::Valid,
            receipt: Some(view_of(&ctx, &r)),
        },
        Verdict::OtherSession(r) => Checked {
            verdict: VerdictKind::OtherSession,
            receipt: Some(view_of(&ctx, &r)),
        },
        Verdict::Forged => Checked {
            verdict: VerdictKind::Forged,
            receipt: None,
        },
    })
}

#[component]
fn ReceiptFacts(r: ReceiptView) -> impl IntoView {
    let session = r.session_id.clone();
    view! {
        <dl class="facts" data-testid="receipt" data-status=r.status.as_str() data-session=session>
            <dt>{t!(receipt_session)}</dt><dd>{r.lesson_name} " " <span class="muted small">{r.session_id}</span></dd>
            <dt>{t!(receipt_student)}</dt><dd>{r.student_name} " " <span class="muted">{r.student_number}</span></dd>
            <dt>{t!(receipt_time)}</dt><dd>{r.time}</dd>
            <dt>{t!(receipt_outcome)}</dt><dd class=status_class(r.status)>{status_text(r.status, r.reason)}</dd>
        </dl>
    }
}

/// The student's page of a receipt.
#[component]
pub fn ReceiptPage() -> impl IntoView {
    let query = use_query_map();
    let text = move || query.read().get("r").unwrap_or_default();
    let shown = Resource::new(text, read_receipt);
    view! {
        <Title text=t!(receipt_title)/>
        <section class="card narrow">
            <h1>{t!(receipt_title)}</h1>
            <Suspense fallback=|| view! { <p class="muted">{t!(loading)}</p> }>
                {move || Suspend::new(async move {
                    match shown.await {
                        Ok(Some(s)) => {
                            let text = text();
                            let download = format!("data:text/plain;charset=utf-8,{}", encode_component(&text));
                            view! {
                                <p class="muted">{t!(receipt_intro)}</p>
                                <ReceiptFacts r=s.receipt/>
                                <div class="qr receipt-qr" inner_html=s.qr_svg></div>
                                <label>{t!(receipt_text)}
                                    <textarea readonly rows="4" data-testid="receipt-text">{text}</textarea>
                                </label>
                                <p><a href=download download="attn-receipt.txt">{t!(download_receipt)}</a></p>
                            }.into_any()
                        }
                        Ok(None) => view! { <p class="error" role="alert" data-testid="receipt-unknown">{t!(receipt_unknown)}</p> }.into_any(),
                        Err(e) => view! { <p class="error" role="alert">{e.message(use_lang())}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The teacher's or admin's check of a receipt: a GET form, and the verdict.
#[component]
pub fn VerifyPage() -> impl IntoView {
    let query = use_query_map();
    let text = move || query.read().get("r").unwrap_or_default();
    let session = move || query.read().get("session").unwrap_or_default();
    let checked = Resource::new(
        move || (text(), session()),
        |(r, s)| async move {
            if r.trim().is_empty() {
                Ok(None)
            } else {
                verify_receipt(r, s).await.map(Some)
            }
        },
    );
    view! {
        <Title text=t!(verify_receipt)/>
        <section class="card narrow">
            <h1>{t!(verify_receipt)}</h1>
            <p class="muted">{t!(verify_intro)}</p>
            <Suspense fallback=|| view! { <p class="muted">{t!(loading)}</p> }>
                {move || Suspend::new(async move {
                    match checked.await {
                        Ok(Some(c)) => {
                            let message = match c.verdict {
                                VerdictKind::Valid => t!(verdict_valid).into_any(),
                                VerdictKind::OtherSession => t!(verdict_other_session).into_any(),
                                VerdictKind::Forged => t!(verdict_forged).into_any(),
                            };
                            let class = if c.verdict == VerdictKind::Valid { "success" } else { "error" };
                            view! {
                                <p class=class role="status" data-testid="verdict" data-verdict=c.verdict.as_str()>{message}</p>
                                {c.receipt.map(|r| view! { <ReceiptFacts r/> })}
                            }.into_any()
                        }
                        Ok(None) => ().into_any(),
                        Err(AppError::LoginRequired) => {
                            let back = format!("/verify?r={}&session={}", encode_component(&text()), encode_component(&session()));
                            view! { <Redirect path=format!("/login?next={}", encode_component(&back))/> }.into_any()
                        }
                        Err(e) => view! { <p class="error" role="alert" data-testid="verdict-error">{e.message(use_lang())}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <form class="stack" method="get" action="/verify">
                <label>{t!(receipt)}
                    <textarea name="r" rows="4" required maxlength="2048">{text()}</textarea>
                </label>
                <label>{t!(verify_session)} <input name="session" value=session() maxlength="64"/></label>
                <button class="primary" type="submit">{t!(verify)}</button>
            </form>
        </section>
    }
}
