{{/* Chart name, truncated to the 63 characters of a DNS label. */}}
{{- define "casexchange.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name of the release's objects. */}}
{{- define "casexchange.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "casexchange.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "casexchange.selectorLabels" . }}
app.kubernetes.io/version: {{ (default .Chart.AppVersion .Values.image.tag) | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "casexchange.selectorLabels" -}}
app.kubernetes.io/name: {{ include "casexchange.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "casexchange.image" -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end }}

{{/* One environment variable read from a Secret: (list $ "NAME" .Values.secrets.x optional). */}}
{{- define "casexchange.secretEnv" -}}
{{- $root := index . 0 }}{{ $name := index . 1 }}{{ $ref := index . 2 -}}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ default (default (include "casexchange.fullname" $root) $root.Values.secrets.existingSecret) $ref.secret }}
      key: {{ required (printf "secrets: a key for %s" $name) $ref.key }}
{{- end }}

{{/* The environment shared by the server and the migration Job. */}}
{{- define "casexchange.env" -}}
{{- $c := .Values.config -}}
{{ include "casexchange.secretEnv" (list . "DATABASE_URL" .Values.secrets.databaseURL) }}
{{ include "casexchange.secretEnv" (list . "CX_JWT_SECRET" .Values.secrets.jwtSecret) }}
- name: CX_SEED
  value: "false"
- name: CX_DATA_DIR
  value: /data
- name: CX_HTTP_ADDR
  value: "0.0.0.0:8080"
- name: CX_PUBLIC_BASE_URL
  value: {{ required "config.publicBaseURL is required" $c.publicBaseURL | quote }}
- name: CX_RATE_LIMIT_STORE
  value: {{ $c.rateLimitStore | quote }}
{{- with $c.trustedProxies }}
- name: CX_TRUSTED_PROXIES
  value: {{ . | quote }}
- name: CX_CLIENT_IP_HEADER
  value: {{ $c.clientIPHeader | quote }}
{{- end }}
- name: CX_SECURE_COOKIES
  value: {{ $c.secureCookies | quote }}
- name: CX_SHUTDOWN_TIMEOUT
  value: {{ $c.shutdownTimeout | quote }}
{{- with $c.drainDelay }}
- name: CX_DRAIN_DELAY
  value: {{ . | quote }}
{{- end }}
- name: CX_LOG_LEVEL
  value: {{ $c.logLevel | quote }}
- name: CX_STORAGE
  value: {{ $c.storage | quote }}
{{- if eq $c.storage "s3" }}
- name: CX_S3_BUCKET
  value: {{ required "config.s3.bucket is required with storage s3" $c.s3.bucket | quote }}
{{- with $c.s3.endpoint }}
- name: CX_S3_ENDPOINT
  value: {{ . | quote }}
{{- end }}
{{- with $c.s3.region }}
- name: CX_S3_REGION
  value: {{ . | quote }}
{{- end }}
- name: CX_S3_USE_PATH_STYLE
  value: {{ $c.s3.usePathStyle | quote }}
- name: CX_S3_INSECURE
  value: {{ $c.s3.insecure | quote }}
{{ include "casexchange.secretEnv" (list . "CX_S3_ACCESS_KEY" .Values.secrets.s3AccessKey) }}
{{ include "casexchange.secretEnv" (list . "CX_S3_SECRET_KEY" .Values.secrets.s3SecretKey) }}
{{- else if eq $c.storage "local" }}
{{- if gt (int .Values.replicaCount) 1 }}
{{- fail "config.storage=local keeps documents in each pod: use s3 with more than one replica" }}
{{- end }}
{{ include "casexchange.secretEnv" (list . "CX_DOWNLOAD_LINK_SECRET" .Values.secrets.downloadLinkSecret) }}
{{- else }}
{{- fail (printf "config.storage: want s3 or local, got %q" $c.storage) }}
{{- end }}
{{- with $c.smtp.addr }}
- name: CX_SMTP_ADDR
  value: {{ . | quote }}
- name: CX_SMTP_STARTTLS
  value: {{ $c.smtp.startTLS | quote }}
{{- end }}
{{- with $c.smtp.from }}
- name: CX_SMTP_FROM
  value: {{ . | quote }}
{{- end }}
{{- with $c.smtp.username }}
- name: CX_SMTP_USERNAME
  value: {{ . | quote }}
{{ include "casexchange.secretEnv" (list $ "CX_SMTP_PASSWORD" $.Values.secrets.smtpPassword) }}
{{- end }}
{{- if .Values.metrics.enabled }}
- name: CX_METRICS_ADDR
  value: {{ printf "0.0.0.0:%d" (int .Values.metrics.port) | quote }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Pod-level settings shared by the server and the migration Job. */}}
{{- define "casexchange.podCommon" -}}
automountServiceAccountToken: false
{{- with .Values.serviceAccountName }}
serviceAccountName: {{ . }}
{{- end }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
{{ toYaml . }}
{{- end }}
securityContext:
{{ toYaml .Values.podSecurityContext | indent 2 }}
{{- with .Values.nodeSelector }}
nodeSelector:
{{ toYaml . | indent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
{{ toYaml . }}
{{- end }}
{{- end }}
