"""The e-mail channel: the last resort for escalation notices and urgent updates (SMTP, `sender.py`)
and the one-time acknowledge link those notices carry (`mount.py`). Off while `SITELINE_SMTP_HOST`
is unset; see docs/email.md."""
