{{/*
ServiceAccount of a service or of the gateway. No API token is mounted: the workloads never call the
Kubernetes API. .hook (a list of hook events) makes it a hook resource for the migration Job, which runs
before the release's ordinary resources exist.
*/}}
{{- define "school-lib.serviceAccount" -}}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ .serviceAccountName }}
  namespace: {{ .root.Release.Namespace }}
  labels: {{- .labels | nindent 4 }}
  {{- if or .hook .values.serviceAccount.annotations }}
  annotations:
    {{- with .values.serviceAccount.annotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
    {{- if .hook }}
    helm.sh/hook: {{ join "," .hook }}
    helm.sh/hook-weight: "-10"
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
    {{- end }}
  {{- end }}
automountServiceAccountToken: false
{{- end -}}
