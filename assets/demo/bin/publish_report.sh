#!/bin/sh
# Stands in for a POST of the daily report to a reporting API that is being
# redeployed at 3 a.m.: the first attempt gets a 503, later ones succeed.
day="$1"
marker=".switchyard/publish_report.$day.tried"
echo "building report for $day from warehouse table daily_revenue"
if [ ! -f "$marker" ]; then
  mkdir -p .switchyard && touch "$marker"
  echo "POST https://reports.internal/api/v1/daily/$day" >&2
  echo "error: 503 Service Unavailable: upstream connect error or disconnect/reset before headers" >&2
  exit 22
fi
echo "POST https://reports.internal/api/v1/daily/$day: 201 Created"
