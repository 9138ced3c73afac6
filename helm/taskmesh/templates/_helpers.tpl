{{- define "taskmesh.name" -}}taskmesh-operator{{- end -}}

{{- define "taskmesh.labels" -}}
app.kubernetes.io/name: {{ include "taskmesh.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "taskmesh.selectorLabels" -}}
app.kubernetes.io/name: {{ include "taskmesh.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "taskmesh.fullname" -}}{{ printf "%s-operator" .Release.Name | trunc 63 | trimSuffix "-" }}{{- end -}}

{{- define "taskmesh.webhookName" -}}{{ printf "%s-sidecar-injector.taskmesh.io" .Release.Name }}{{- end -}}

{{/* images.pullSecrets ([{name: a}, {name: b}]) -> "a,b" */}}
{{- define "taskmesh.pullSecretNames" -}}
{{- $names := list -}}
{{- range .Values.images.pullSecrets }}{{ $names = append $names .name }}{{ end -}}
{{- join "," $names -}}
{{- end -}}

{{/* image "operator" -> registry/repository:tag, the tag defaulting to the chart's appVersion */}}
{{- define "taskmesh.image" -}}
{{- $image := index .root.Values.images .name -}}
{{- printf "%s%s:%s" .root.Values.images.registry $image.repository (default .root.Chart.AppVersion $image.tag) -}}
{{- end -}}
