"""REST operations of accounts: registration, sessions, tokens, passwords, access, dependents."""

from __future__ import annotations

import uuid

from aiohttp import web

from portal.access import Principal
from portal.accounts import NewDependent, Registration
from portal.errors import AccessDenied
from portal.i18n import Language
from portal.models import Role
from portal.services import Portal

from .framework import SESSION_COOKIE_KEY, Router, clear_session_cookie, set_session_cookie
from .schemas import (
    AccountOut,
    AddDependentBody,
    ChangePasswordBody,
    FullAccessBody,
    LoginBody,
    LoginOut,
    PasswordResetBody,
    PasswordResetRequestBody,
    PatientList,
    PatientOut,
    RegisterAccountBody,
    TermsOut,
    TokenOut,
)

router = Router("accounts")


@router.operation(
    "POST",
    "/accounts",
    "registerAccount",
    summary=(
        "Register a patient account (basic access). A login or PESEL that already has an "
        "account is answered as success would be; the real outcome is mailed."
    ),
    status=201,
    authenticated=False,
    problems=(422, 429),
)
async def register_account(
    request: web.Request, portal: Portal, body: RegisterAccountBody, language: Language
) -> AccountOut:
    account = await portal.accounts.register(
        Registration(**body.model_dump()), language=language, client_address=request.remote
    )
    return AccountOut.of(account)


@router.operation(
    "POST",
    "/auth/login",
    "login",
    summary="Log in: sets the session cookie and returns the CSRF token.",
    authenticated=False,
    problems=(401, 422, 429),
)
async def login(request: web.Request, portal: Portal, body: LoginBody) -> web.StreamResponse:
    result = await portal.auth.login(
        body.login,
        body.password,
        client_address=request.remote,
        user_agent=request.headers.get("User-Agent"),
    )
    out = LoginOut(csrf_token=result.csrf_token, account=AccountOut.of(result.account))
    response = web.Response(text=out.model_dump_json(), content_type="application/json")
    set_session_cookie(
        response,
        request,
        request.app[SESSION_COOKIE_KEY],
        result.session_token,
        max_age=int(portal.config.session_absolute_timeout.total_seconds()),
    )
    return response


@router.operation(
    "POST",
    "/auth/logout",
    "logout",
    summary="End the current session.",
    status=204,
    problems=(401, 403),
)
async def logout(request: web.Request, portal: Portal, principal: Principal) -> web.StreamResponse:
    if principal.session_id is not None:
        await portal.auth.logout(principal.session_id)
    response = web.Response(status=204)
    clear_session_cookie(response, request, request.app[SESSION_COOKIE_KEY])
    return response


@router.operation(
    "POST",
    "/auth/token",
    "createAccessToken",
    summary="Issue a short-lived bearer token acting as the logged-in patient.",
    roles=(Role.PATIENT,),
    problems=(401, 403),
)
async def create_access_token(portal: Portal, principal: Principal) -> TokenOut:
    if principal.via != "session":
        # Tokens are minted from a login session only, never from another token.
        raise AccessDenied("role_forbidden")
    token = portal.auth.issue_token(principal)
    remaining = token.expires_at - portal.clock.now()
    return TokenOut(
        access_token=token.token,
        expires_at=token.expires_at,
        expires_in=int(remaining.total_seconds()),
    )


@router.operation(
    "POST",
    "/auth/password-reset",
    "requestPasswordReset",
    summary="Mail a password reset link; the answer is the same whether the account exists.",
    status=202,
    authenticated=False,
    problems=(422, 429),
)
async def request_password_reset(
    request: web.Request, portal: Portal, body: PasswordResetRequestBody, language: Language
) -> None:
    await portal.accounts.request_password_reset(
        body.login, language, client_address=request.remote
    )


@router.operation(
    "POST",
    "/auth/password-reset/confirm",
    "resetPassword",
    summary="Set a new password with the token from the reset link; ends every session.",
    status=204,
    authenticated=False,
    problems=(422,),
)
async def reset_password(portal: Portal, body: PasswordResetBody) -> None:
    await portal.accounts.reset_password(body.token, body.new_password)


@router.operation("GET", "/me", "getMe", summary="The logged-in account.", problems=(401,))
async def get_me(portal: Portal, principal: Principal) -> AccountOut:
    return AccountOut.of(await portal.accounts.get_account(principal.account_id))


@router.operation(
    "POST",
    "/me/password",
    "changePassword",
    summary="Change the password (the current one required); other sessions end.",
    status=204,
    problems=(401, 403, 422, 429),
)
async def change_password(portal: Portal, principal: Principal, body: ChangePasswordBody) -> None:
    await portal.accounts.change_password(principal, body.old_password, body.new_password)


@router.operation(
    "GET",
    "/terms",
    "getTerms",
    summary="The current Terms of Service and document regulations versions.",
    authenticated=False,
)
async def get_terms(portal: Portal) -> TermsOut:
    return TermsOut(
        terms_version=portal.config.terms_version,
        document_regulations_version=portal.config.document_regulations_version,
        terms_url="/terms.html",
    )


@router.operation(
    "POST",
    "/me/full-access",
    "requestFullAccess",
    summary="Accept the current Terms of Service online and get full access.",
    roles=(Role.PATIENT,),
    problems=(401, 403, 422),
)
async def request_full_access(
    portal: Portal, principal: Principal, body: FullAccessBody
) -> AccountOut:
    account = await portal.accounts.request_full_access(
        principal, body.accept_terms, body.terms_version or portal.config.terms_version
    )
    return AccountOut.of(account)


@router.operation(
    "GET",
    "/me/dependents",
    "listDependents",
    summary="The children the patient books for.",
    roles=(Role.PATIENT,),
    problems=(401, 403),
)
async def list_dependents(portal: Portal, principal: Principal) -> PatientList:
    children = await portal.accounts.list_dependents(principal)
    return PatientList(items=[PatientOut.of(child) for child in children])


@router.operation(
    "POST",
    "/me/dependents",
    "addDependent",
    summary=(
        "Add a child under 18. A PESEL that is already a patient's is answered as success "
        "would be; the guardian is mailed to come to reception."
    ),
    status=201,
    roles=(Role.PATIENT,),
    problems=(401, 403, 422, 429),
)
async def add_dependent(
    portal: Portal, principal: Principal, body: AddDependentBody, language: Language
) -> PatientOut:
    child = await portal.accounts.add_dependent(
        principal, NewDependent(**body.model_dump()), language=language
    )
    return PatientOut.of(child)


@router.operation(
    "POST",
    "/reception/accounts/{account_id}/full-access",
    "grantFullAccess",
    summary="Reception grants full access to a patient identified at the desk.",
    roles=(Role.RECEPTION,),
    problems=(401, 403, 404),
)
async def grant_full_access(
    portal: Portal, principal: Principal, account_id: uuid.UUID
) -> AccountOut:
    return AccountOut.of(await portal.accounts.grant_full_access(principal, account_id))
