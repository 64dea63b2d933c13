{{/* Names, labels and images used by every template, defined once. */}}

{{- define "pgconmgr.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Full name: the release name, prefixed with the chart name unless it already contains it. */}}
{{- define "pgconmgr.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "pgconmgr.selectorLabels" -}}
app.kubernetes.io/name: {{ include "pgconmgr.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "pgconmgr.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "pgconmgr.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: pgconmgr
{{- end -}}

{{- define "pgconmgr.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "pgconmgr.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Image reference: registry/repository:tag. Call with (dict "root" $ "repository" "...") */}}
{{- define "pgconmgr.image" -}}
{{- $tag := default .root.Chart.AppVersion .root.Values.image.tag -}}
{{- if .root.Values.image.registry -}}
{{- printf "%s/%s:%s" (trimSuffix "/" .root.Values.image.registry) .repository $tag -}}
{{- else -}}
{{- printf "%s:%s" .repository $tag -}}
{{- end -}}
{{- end -}}

{{- define "pgconmgr.webhookServiceName" -}}
{{- include "pgconmgr.fullname" . -}}
{{- end -}}

{{- define "pgconmgr.webhookSecretName" -}}
{{- printf "%s-webhook-tls" (include "pgconmgr.fullname" .) -}}
{{- end -}}

{{/* The webhook's DNS name, as the API server calls it: <service>.<namespace>.svc */}}
{{- define "pgconmgr.webhookDnsName" -}}
{{- printf "%s.%s.svc" (include "pgconmgr.webhookServiceName" .) .Release.Namespace -}}
{{- end -}}

{{/* Path the operator serves admission reviews on. */}}
{{- define "pgconmgr.webhookPath" -}}
/mutate-pods
{{- end -}}
