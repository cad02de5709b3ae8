"""The embedded agent of Xtrape Capsule's Opstage console (HTTP/JSON, outbound polling only)."""
