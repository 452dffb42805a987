{{- /*
  Checks that make `helm install` fail with a message saying what to change, rather than
  deploying a workspace that breaks later: images with a known tag, Dask workers on the
  notebook image, and the wiring between the subcharts and this chart's objects.
  Included once, from templates/settings/configmap.yaml.
*/}}
{{- define "soc-workspace.checks" -}}
{{- $v := .Values }}
{{- $jh := $v.jupyterhub }}
{{- $dg := index $v "dask-gateway" }}

{{- /* Exact image tags everywhere a pod's image comes from */}}
{{- include "soc-workspace.checkImage" (list "jupyterhub.singleuser.image" $jh.singleuser.image) }}
{{- with $jh.hub.image }}{{ include "soc-workspace.checkImage" (list "jupyterhub.hub.image" .) }}{{ end }}
{{- with $dg.gateway.image }}{{ include "soc-workspace.checkImage" (list "dask-gateway.gateway.image" .) }}{{ end }}
{{- if $v.workshop.enabled }}
{{- include "soc-workspace.checkImage" (list "workshop.placeholderImage" $v.workshop.placeholderImage) }}
{{- end }}

{{- /* Dask schedulers and workers run exactly the notebook image */}}
{{- $backend := dig "backend" "image" dict $dg.gateway }}
{{- if or (ne ($backend.name | default "") $jh.singleuser.image.name) (ne (toString ($backend.tag | default "")) (toString $jh.singleuser.image.tag)) }}
{{- fail (printf "dask-gateway.gateway.backend.image (%s:%s) must be the notebook image jupyterhub.singleuser.image (%s:%s): Dask workers that differ from the notebook break pickled functions and libraries. Set both to the same name and tag." ($backend.name | default "<unset>") ($backend.tag | default "<unset>") $jh.singleuser.image.name (toString $jh.singleuser.image.tag)) }}
{{- end }}

{{- /* The gateway runs soc_workspace's options, so it runs the hub image */}}
{{- $gwImage := $dg.gateway.image | default dict }}
{{- $hubImage := $jh.hub.image | default dict }}
{{- if or (ne ($gwImage.name | default "") ($hubImage.name | default "")) (ne (toString ($gwImage.tag | default "")) (toString ($hubImage.tag | default ""))) }}
{{- fail (printf "dask-gateway.gateway.image must be the hub image jupyterhub.hub.image (%s:%s), which has soc_workspace for the gateway's options and limits." ($hubImage.name | default "<unset>") (toString ($hubImage.tag | default "<unset>"))) }}
{{- end }}

{{- /* The profiles come from this chart's `profiles`, not the jupyterhub chart's */}}
{{- if dig "singleuser" "profileList" list $jh }}
{{- fail "jupyterhub.singleuser.profileList is set: define the profiles under `profiles` (this chart builds KubeSpawner's profile list from them, with their kernels, teams and limits)." }}
{{- end }}
{{- $profile := $v.workshop.profile }}
{{- if and $v.workshop.enabled (not (hasKey $v.profiles $profile)) }}
{{- fail (printf "workshop.profile %q is not one of the profiles (%s)." $profile (keys $v.profiles | sortAlpha | join ", ")) }}
{{- end }}
{{- $defaults := list }}
{{- range $slug, $p := $v.profiles }}{{ if $p.default }}{{ $defaults = append $defaults $slug }}{{ end }}{{ end }}
{{- if gt (len $defaults) 1 }}
{{- fail (printf "profiles %s are all marked default: true; mark one." ($defaults | join ", ")) }}
{{- end }}

{{- /* The hub mounts our ConfigMaps where the drop-ins and settings are expected */}}
{{- include "soc-workspace.checkMount" (list $jh.hub (include "soc-workspace.hub.fullname" .) "/usr/local/etc/jupyterhub/jupyterhub_config.d") }}
{{- include "soc-workspace.checkMount" (list $jh.hub (include "soc-workspace.settings.fullname" .) "/etc/soc-workspace") }}
{{- $config := dig "extraEnv" "SOC_WORKSPACE_CONFIG" "" $jh.hub }}
{{- if ne $config "/etc/soc-workspace/config.toml" }}
{{- fail "jupyterhub.hub.extraEnv.SOC_WORKSPACE_CONFIG must be /etc/soc-workspace/config.toml (the settings file this chart mounts)." }}
{{- end }}
{{- if not (dig "services" "dask-gateway" false $jh.hub) }}
{{- fail "jupyterhub.hub.services.dask-gateway is missing: the gateway is a hub service (its API token comes from it)." }}
{{- end }}

{{- /* The gateway finds our settings and authenticates with the hub */}}
{{- $settingsEnv := "" }}
{{- range $dg.gateway.env | default list }}{{ if eq .name "SOC_WORKSPACE_SETTINGS_CONFIGMAP" }}{{ $settingsEnv = .value }}{{ end }}{{ end }}
{{- if ne $settingsEnv (include "soc-workspace.settings.fullname" .) }}
{{- fail (printf "dask-gateway.gateway.env must set SOC_WORKSPACE_SETTINGS_CONFIGMAP to %q (found %q): the gateway reads its options and limits from that ConfigMap." (include "soc-workspace.settings.fullname" .) $settingsEnv) }}
{{- end }}
{{- if ne (dig "auth" "type" "" $dg.gateway) "jupyterhub" }}
{{- fail "dask-gateway.gateway.auth.type must be jupyterhub: users log in to the gateway with their hub token." }}
{{- end }}
{{- end }}

{{- define "soc-workspace.checkImage" -}}
{{- $key := index . 0 }}{{ $image := index . 1 }}
{{- $tag := toString ($image.tag | default "") }}
{{- if not $image.name }}
{{- fail (printf "%s.name is empty: name the image." $key) }}
{{- end }}
{{- if contains "@" $image.name }}
{{- fail (printf "%s.name %q carries a digest: the jupyterhub and dask-gateway charts write images as name:tag, so put the digest in the tag (tag: \"<tag>@sha256:<digest>\")." $key $image.name) }}
{{- end }}
{{- $exact := regexReplaceAll "@sha256:[0-9a-f]{64}$" $tag "" }}
{{- if or (not $exact) (eq $exact "latest") (contains "@" $exact) }}
{{- fail (printf "%s.tag is %q: give an exact tag, optionally with its digest (\"2026.11.1@sha256:<64 hex>\"); `latest` and untagged images are refused so every pod runs a known image." $key $tag) }}
{{- end }}
{{- end }}

{{- define "soc-workspace.checkMount" -}}
{{- $hub := index . 0 }}{{ $configMap := index . 1 }}{{ $path := index . 2 }}
{{- $volume := "" }}
{{- range $hub.extraVolumes | default list }}
{{- if and .configMap (eq .configMap.name $configMap) }}{{ $volume = .name }}{{ end }}
{{- end }}
{{- $mounted := false }}
{{- range $hub.extraVolumeMounts | default list }}
{{- if and (eq .name $volume) (eq .mountPath $path) }}{{ $mounted = true }}{{ end }}
{{- end }}
{{- if not $mounted }}
{{- fail (printf "jupyterhub.hub must mount ConfigMap %q at %s (extraVolumes + extraVolumeMounts, see values.yaml)." $configMap $path) }}
{{- end }}
{{- end }}
