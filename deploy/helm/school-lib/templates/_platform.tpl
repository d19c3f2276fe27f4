{{/*
Entry points used by the umbrella chart.

school-lib.platformService (dict "root" $ "name" "<service>"): everything one service needs —
ServiceAccount, ConfigMap, and per enabled component (api / worker / relay) a Deployment, an HPA or not,
a PDB, a NetworkPolicy; a Service for the api; the migration Job (and its hook ServiceAccount).
*/}}
{{- define "school-lib.platformService" -}}
{{- $svc := include "school-lib.serviceValues" . | fromYaml -}}
{{- if $svc.enabled -}}
{{- $shared := dict "root" .root "name" .name "kind" "service" "component" "service" "values" $svc -}}
{{- include "school-lib.context" $shared -}}
{{- $configData := include "school-lib.configData" $shared -}}
{{- $_ := set $shared "configData" $configData -}}
{{- if $svc.serviceAccount.create }}
{{ include "school-lib.serviceAccount" $shared }}
{{- end }}
{{ include "school-lib.configMap" $shared }}
{{- range $component := list "api" "worker" "relay" }}
{{- $comp := index $svc.components $component }}
{{- if $comp.enabled }}
{{- $ctx := dict "root" $.root "name" $.name "kind" "service" "component" $component "values" $svc "comp" $comp "configData" $configData }}
{{- include "school-lib.context" $ctx }}
{{ include "school-lib.deployment" $ctx }}
{{- if eq $component "api" }}
{{ include "school-lib.service" $ctx }}
{{- end }}
{{- if $comp.autoscaling.enabled }}
{{ include "school-lib.hpa" $ctx }}
{{- end }}
{{- if $comp.pdb.enabled }}
{{ include "school-lib.pdb" $ctx }}
{{- end }}
{{- if and $.root.Values.networkPolicy.enabled $svc.networkPolicy.enabled }}
{{ include "school-lib.networkPolicy" $ctx }}
{{- end }}
{{- end }}
{{- end }}
{{- if $svc.migrations.enabled }}
{{- $job := dict "root" .root "name" .name "kind" "service" "component" "migrate" "values" $svc "configData" $configData "jobPod" true "migration" true "hook" $svc.migrations.hookEvents }}
{{- include "school-lib.context" $job }}
{{- if $svc.serviceAccount.create }}
{{- $_ := set $job "serviceAccountName" (printf "%s-migrate" $job.baseName | trunc 63 | trimSuffix "-") }}
{{ include "school-lib.serviceAccount" $job }}
{{- end }}
{{ include "school-lib.migrationJob" $job }}
{{- end }}
{{- end -}}
{{- end -}}

{{/*
school-lib.gateway (root context): the public REST gateway — ServiceAccount, ConfigMap (with
GATEWAY__SERVICES__<NAME> for every enabled api), Deployment, Service, HPA, PDB, NetworkPolicy, Ingress.
*/}}
{{- define "school-lib.gateway" -}}
{{- $gw := include "school-lib.gatewayValues" (dict "root" .) | fromYaml -}}
{{- if $gw.enabled -}}
{{- $ctx := dict "root" . "name" "gateway" "kind" "gateway" "component" "gateway" "values" $gw "comp" $gw -}}
{{- include "school-lib.context" $ctx -}}
{{- $_ := set $ctx "configData" (include "school-lib.configData" $ctx) -}}
{{- if $gw.serviceAccount.create }}
{{ include "school-lib.serviceAccount" $ctx }}
{{- end }}
{{ include "school-lib.configMap" $ctx }}
{{ include "school-lib.deployment" $ctx }}
{{ include "school-lib.service" $ctx }}
{{- if $gw.autoscaling.enabled }}
{{ include "school-lib.hpa" $ctx }}
{{- end }}
{{- if $gw.pdb.enabled }}
{{ include "school-lib.pdb" $ctx }}
{{- end }}
{{- if and .Values.networkPolicy.enabled $gw.networkPolicy.enabled }}
{{ include "school-lib.networkPolicy" $ctx }}
{{- end }}
{{- if $gw.ingress.enabled }}
{{ include "school-lib.ingress" $ctx }}
{{- end }}
{{- end -}}
{{- end -}}

{{- define "school-lib.ingress" -}}
{{- $ing := .values.ingress -}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ .workloadName }}
  namespace: {{ .root.Release.Namespace }}
  labels: {{- .labels | nindent 4 }}
  {{- with $ing.annotations }}
  annotations: {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  {{- with $ing.className }}
  ingressClassName: {{ . }}
  {{- end }}
  {{- with $ing.tls }}
  tls:
    {{- range . }}
    - secretName: {{ .secretName }}
      hosts: {{- toYaml .hosts | nindent 8 }}
    {{- end }}
  {{- end }}
  rules:
    {{- range $ing.hosts }}
    - host: {{ .host | quote }}
      http:
        paths:
          {{- range .paths }}
          - path: {{ .path }}
            pathType: {{ .pathType }}
            backend:
              service:
                name: {{ $.workloadName }}
                port:
                  name: http
          {{- end }}
    {{- end }}
{{- end -}}
