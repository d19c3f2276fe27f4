{{/*
Generic helpers: deep merge, names, labels, image references.

Every template of this library takes a "workload context" dict made once by "school-lib.context" (see
_context.tpl); names and labels are computed there and reused, never recomputed per resource.
*/}}

{{/*
Deep-merges .over onto .base and returns YAML (use with fromYaml). Maps merge key by key; any other
value in .over (including false, 0, "" and lists) replaces the one in .base. Sprig's mergeOverwrite
is not used on purpose: it ignores "empty" overrides, so `enabled: false` could never win.
*/}}
{{- define "school-lib.merge" -}}
{{- $out := deepCopy (.base | default dict) -}}
{{- range $k, $v := (.over | default dict) -}}
{{- $cur := get $out $k -}}
{{- if and (kindIs "map" $v) (kindIs "map" $cur) -}}
{{- $_ := set $out $k (include "school-lib.merge" (dict "base" $cur "over" $v) | fromYaml) -}}
{{- else -}}
{{- $_ := set $out $k $v -}}
{{- end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/*
Release-wide name prefix: fullnameOverride, else the release name. `helm install school …` gives
school-student-record-api, school-gateway, … Truncated to 40 so that "<prefix>-<service>-<component>"
stays within the 63 characters of a DNS label.
*/}}
{{- define "school-lib.fullname" -}}
{{- $name := .Values.fullnameOverride | default .Release.Name -}}
{{- $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{/* A string usable as a label value: alphanumerics, '-', '_', '.', at most 63, alphanumeric ends. */}}
{{- define "school-lib.labelValue" -}}
{{- regexReplaceAll "[^A-Za-z0-9._-]" (toString .) "_" | trunc 63 | trimAll "-_." -}}
{{- end -}}

{{/* The image tag: the value's tag, else the chart's appVersion. */}}
{{- define "school-lib.imageTag" -}}
{{- .image.tag | default .root.Chart.AppVersion | toString -}}
{{- end -}}

{{/* registry/repository:tag[@digest]; a tag that already carries "@sha256:…" (skaffold) is kept as is. */}}
{{- define "school-lib.image" -}}
{{- $registry := .image.registry | default .root.Values.global.imageRegistry -}}
{{- $repo := .image.repository -}}
{{- if $registry -}}{{- $repo = printf "%s/%s" (trimSuffix "/" $registry) $repo -}}{{- end -}}
{{- $ref := printf "%s:%s" $repo (include "school-lib.imageTag" .) -}}
{{- if and .image.digest (not (contains "@" $ref)) -}}{{- $ref = printf "%s@%s" $ref .image.digest -}}{{- end -}}
{{- $ref -}}
{{- end -}}

{{/* Selector labels: the stable subset, never changed after the first install. */}}
{{- define "school-lib.selectorLabels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Full recommended labels for one workload. */}}
{{- define "school-lib.labels" -}}
helm.sh/chart: {{ include "school-lib.labelValue" (printf "%s-%s" .root.Chart.Name .root.Chart.Version) }}
{{ include "school-lib.selectorLabels" . }}
app.kubernetes.io/part-of: school-platform
app.kubernetes.io/version: {{ include "school-lib.labelValue" (splitList "@" .version | first) | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Labels of a release-wide object that belongs to no single service (CNPG cluster, Keycloak). */}}
{{- define "school-lib.sharedLabels" -}}
helm.sh/chart: {{ include "school-lib.labelValue" (printf "%s-%s" .root.Chart.Name .root.Chart.Version) }}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
app.kubernetes.io/part-of: school-platform
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}
