#!/usr/bin/env bash
# Set up (if needed) and run medsync-bot locally: SQLite, console transport, demo data,
# web app on http://127.0.0.1:5000. Ctrl-C stops it.
source "$(dirname "$0")/venv.sh"
export MEDSYNC_DEMO="${MEDSYNC_DEMO:-1}"
export MEDSYNC_TRANSPORT="${MEDSYNC_TRANSPORT:-console}"
flask --app wsgi db upgrade
echo "medsync-bot is starting: open http://127.0.0.1:5000/healthz"
exec flask --app wsgi run --host 127.0.0.1 --port 5000
