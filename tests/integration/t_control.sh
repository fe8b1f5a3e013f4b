# tests/integration/t_control.sh — the control socket of a multi-user mount
# under attack: slow, stalling and flooding clients from local accounts, while
# other users unlock, idle expiry and key refresh go on (issue 10, item 1).
