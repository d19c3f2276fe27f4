{{/* HorizontalPodAutoscaler (autoscaling/v2) of one component; .comp.autoscaling. */}}
{{- define "school-lib.hpa" -}}
{{- $a := .comp.autoscaling -}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ .workloadName }}
  namespace: {{ .root.Release.Namespace }}
  labels: {{- .labels | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ .workloadName }}
  minReplicas: {{ $a.minReplicas | int }}
  maxReplicas: {{ $a.maxReplicas | int }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $a.targetCPUUtilizationPercentage | int }}
    {{- if $a.targetMemoryUtilizationPercentage }}
    - type: Resource
      resource:
        name: memory
        target:
          type: Utilization
          averageUtilization: {{ $a.targetMemoryUtilizationPercentage | int }}
    {{- end }}
  {{- with $a.behavior }}
  behavior: {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}

{{/* PodDisruptionBudget (policy/v1) of one component; .comp.pdb. */}}
{{- define "school-lib.pdb" -}}
{{- $p := .comp.pdb -}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ .workloadName }}
  namespace: {{ .root.Release.Namespace }}
  labels: {{- .labels | nindent 4 }}
spec:
  {{- if kindIs "string" $p.maxUnavailable }}
  maxUnavailable: {{ $p.maxUnavailable | quote }}
  {{- else }}
  maxUnavailable: {{ $p.maxUnavailable | int }}
  {{- end }}
  unhealthyPodEvictionPolicy: AlwaysAllow
  selector:
    matchLabels: {{- .selectorLabels | nindent 6 }}
{{- end -}}
