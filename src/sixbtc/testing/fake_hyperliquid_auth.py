"""Signature and nonce checks of the fake Hyperliquid ``/exchange`` endpoint.

Shape first (``signature`` with hex ``r``/``s`` and an integer ``v``, an integer ``nonce``),
then the signer is recovered with the SDK's own recovery helpers (``eth_account`` under the
hood): L1 actions (orders, cancels, leverage, sub-accounts, transfers) hash the msgpack'ed
action with the nonce and ``vaultAddress``; user-signed actions (``approveAgent``) are EIP-712
messages. A signature over other bytes recovers some unrelated address, which the venue answers
with ``User or API Wallet 0x... does not exist.``

Nonces follow the venue's rule (docs "Nonces and API wallets"): each signer keeps its 100 highest
nonces; a new one must be unused, larger than the smallest kept, and within (now - 2 days,
now + 1 day).
"""

from __future__ import annotations

import re
from typing import Any

from hyperliquid.utils.signing import (
    recover_agent_or_user_from_l1_action,
    recover_user_from_user_signed_action,
)

from sixbtc.testing.fake_hyperliquid_book import now_ms

_HEX = re.compile(r"^0x[0-9a-fA-F]{1,64}$")
_DAY_MS = 86_400_000
APPROVE_AGENT_TYPES = [
    {"name": "hyperliquidChain", "type": "string"},
    {"name": "agentAddress", "type": "address"},
    {"name": "agentName", "type": "string"},
    {"name": "nonce", "type": "uint64"},
]
USER_SIGNED = {"approveAgent": (APPROVE_AGENT_TYPES, "HyperliquidTransaction:ApproveAgent")}


def shape_error(payload: Any) -> str | None:
    """Why ``payload`` is not a well-formed signed exchange request (None when it is)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("action"), dict):
        return "Failed to deserialize the JSON body into the target type: missing field `action`"
    if not isinstance(payload["action"].get("type"), str):
        return "Failed to deserialize the JSON body into the target type: missing action type"
    nonce = payload.get("nonce")
    if isinstance(nonce, bool) or not isinstance(nonce, int):
        return "Failed to deserialize the JSON body into the target type: missing field `nonce`"
    sig = payload.get("signature")
    if not isinstance(sig, dict) or not all(isinstance(sig.get(k), str) and _HEX.match(sig[k]) for k in ("r", "s")):
        return "Failed to deserialize the JSON body into the target type: invalid signature r/s"
    if isinstance(sig.get("v"), bool) or sig.get("v") not in (27, 28):
        return "Failed to deserialize the JSON body into the target type: invalid signature v"
    vault = payload.get("vaultAddress")
    if vault is not None and not (isinstance(vault, str) and re.fullmatch(r"0x[0-9a-fA-F]{40}", vault)):
        return "Failed to deserialize the JSON body into the target type: invalid vaultAddress"
    return None


def recover_signer(payload: dict[str, Any], is_mainnet: bool = False) -> str:
    """The lower-case address that signed ``payload`` (raises ValueError on garbage)."""
    action, sig = payload["action"], payload["signature"]
    if action["type"] in USER_SIGNED:
        types, primary = USER_SIGNED[action["type"]]
        message = dict(action)
        message.setdefault("agentName", "")
        signer = recover_user_from_user_signed_action(message, sig, types, primary, is_mainnet)
    else:
        signer = recover_agent_or_user_from_l1_action(
            action, sig, payload.get("vaultAddress"), payload["nonce"], payload.get("expiresAfter"),
            is_mainnet)
    return str(signer).lower()


def nonce_error(nonces: dict[str, list[int]], signer: str, nonce: int) -> str | None:
    """Check and record ``nonce`` for ``signer`` in ``nonces`` (the venue's 100-highest rule)."""
    now = now_ms()
    if not now - 2 * _DAY_MS < nonce < now + _DAY_MS:
        return f"Invalid nonce: nonce {nonce} is too far from the current time"
    kept = nonces.setdefault(signer, [])
    if nonce in kept:
        return f"Invalid nonce: duplicate nonce {nonce}"
    if len(kept) >= 100 and nonce < kept[0]:
        return f"Invalid nonce: nonce {nonce} is lower than the lowest kept nonce {kept[0]}"
    kept.append(nonce)
    kept.sort()
    del kept[:-100]
    return None
