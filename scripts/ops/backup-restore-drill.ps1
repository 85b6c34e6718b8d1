#!/usr/bin/env pwsh
# scripts/ops/backup-restore-drill.ps1: the runbook's backup/restore drill
# (PowerShell 7 on Linux, macOS or Windows). Same contract as
# backup-restore-drill.sh:
#
# Required:  SOURCE_DB_URL, TARGET_DB_URL
# Optional:  BACKUP_DIR (default ./.drills/backup), TARGET_API_URL, API_BEARER_TOKEN,
#            RPO_TARGET (24h), RTO_TARGET (2h), PG_BIN_DIR, PGPASSWORD,
#            BACKUPDRILL_EXPORTER (the binary; default backupdrill_exporter on PATH,
#            then this checkout's build/bin/)
#
# Runs `backupdrill_exporter --once` (runbook mode), prints where the artifacts
# are, and exits with its code: 0 passed, 1 drill failed, 2 missing variable or
# refusal. Secrets stay in the environment, never on a command line.
$ErrorActionPreference = 'Stop'
$Prog = 'backup-restore-drill.ps1'
$Root = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path

foreach ($var in 'SOURCE_DB_URL', 'TARGET_DB_URL') {
    if ([string]::IsNullOrEmpty([Environment]::GetEnvironmentVariable($var))) {
        [Console]::Error.WriteLine("${Prog}: $var is not set; set it (e.g. `$env:$var = 'postgresql://user@host:5432/dbname') and run again")
        exit 2
    }
}
if ($env:API_BEARER_TOKEN -and -not $env:TARGET_API_URL) {
    [Console]::Error.WriteLine("${Prog}: API_BEARER_TOKEN is set but TARGET_API_URL is not: the API smoke check is skipped")
}

$Exporter = $env:BACKUPDRILL_EXPORTER
if (-not $Exporter) {
    $cmd = Get-Command backupdrill_exporter -ErrorAction SilentlyContinue
    if ($cmd) {
        $Exporter = $cmd.Source
    } elseif (Test-Path (Join-Path $Root 'build/bin/backupdrill_exporter')) {
        $Exporter = Join-Path $Root 'build/bin/backupdrill_exporter'
    } else {
        [Console]::Error.WriteLine("${Prog}: backupdrill_exporter not found: install the backupdrill package, build this checkout, or set BACKUPDRILL_EXPORTER")
        exit 2
    }
}

if (-not $env:BACKUP_DIR) { $env:BACKUP_DIR = './.drills/backup' }
$Artifacts = Join-Path $env:BACKUP_DIR 'default'
Write-Output "${Prog}: running the drill with $Exporter (artifacts: $Artifacts)"

& $Exporter --once
$rc = $LASTEXITCODE

$result = switch ($rc) {
    0 { 'PASSED' }
    1 { 'FAILED' }
    default { "NOT RUN (usage, configuration or safety refusal; exit $rc)" }
}
Write-Output ''
Write-Output "${Prog}: drill $result"
$summary = $null
if (Test-Path $Artifacts) {
    $summary = Get-ChildItem -Path $Artifacts -Filter 'drill_summary_*.md' | Sort-Object Name | Select-Object -Last 1
}
if ($summary) {
    $ts = $summary.Name -replace '^drill_summary_', '' -replace '\.md$', ''
    Write-Output "${Prog}: artifacts of run $ts in $((Resolve-Path $Artifacts).Path):"
    Get-ChildItem -Path $Artifacts -Filter "*$ts*" | ForEach-Object { Write-Output "  $($_.Name)" }
    Write-Output "${Prog}: summary: $($summary.FullName)"
    if ($env:GITHUB_STEP_SUMMARY) { Get-Content $summary.FullName | Add-Content $env:GITHUB_STEP_SUMMARY }
} else {
    Write-Output "${Prog}: no artifacts were written (see the messages above)"
}
if ($env:GITHUB_OUTPUT) { Add-Content $env:GITHUB_OUTPUT "artifact_dir=$Artifacts" }
exit $rc
