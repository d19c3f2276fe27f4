{{/* Pod-level pieces shared by the Deployments and the migration Job. */}}

{{/* Scheduling, security and the writable /tmp. .jobPod true skips topology spread. */}}
{{- define "school-lib.podCommon" -}}
{{- $v := .values -}}
serviceAccountName: {{ .serviceAccountName }}
automountServiceAccountToken: false
enableServiceLinks: false
{{- with .root.Values.global.imagePullSecrets }}
imagePullSecrets: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
securityContext: {{- toYaml $v.podSecurityContext | nindent 2 }}
{{- with $v.nodeSelector }}
nodeSelector: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.tolerations }}
tolerations: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.affinity }}
affinity: {{- toYaml . | nindent 2 }}
{{- end }}
{{- if and (not .jobPod) $v.topologySpread.enabled }}
topologySpreadConstraints:
{{- range $key := $v.topologySpread.topologyKeys }}
  - maxSkew: {{ $v.topologySpread.maxSkew | int }}
    topologyKey: {{ $key }}
    whenUnsatisfiable: {{ $v.topologySpread.whenUnsatisfiable }}
    labelSelector:
      matchLabels: {{- $.selectorLabels | nindent 8 }}
    matchLabelKeys:
      - pod-template-hash
{{- end }}
{{- end }}
volumes:
  - name: tmp
    emptyDir:
      sizeLimit: {{ $v.tmpVolume.sizeLimit }}
{{- with $v.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Container volume mounts: /tmp is the only writable path (read-only root filesystem). */}}
{{- define "school-lib.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- with .values.extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Pod template annotations: config checksum (rolls pods when settings change) plus podAnnotations. */}}
{{- define "school-lib.podAnnotations" -}}
checksum/config: {{ .configData | sha256sum }}
{{- with .values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "school-lib.podLabels" -}}
{{ .labels }}
{{- with .values.podLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}
