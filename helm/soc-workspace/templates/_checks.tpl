{{- /*
  Checks that make `helm install` fail with a message saying what to change, rather than
  deploying a workspace that breaks later: images with a known tag, Dask workers on the
  notebook image, and the wiring between the subcharts and this chart's objects.
  Included once, from templates/hub/configmap-settings.yaml.
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

{{- /* The hub mounts our ConfigMaps where the drop-ins and settings are expected: each drop-in
       file on its own (subPath), so jupyterhub_config.d keeps the jupyterhub chart's
       hub.extraFiles and other drop-ins */}}
{{- range $path, $_ := .Files.Glob "files/hub/*.py" }}
{{- $file := base $path }}
{{- include "soc-workspace.checkMount" (list $jh.hub (include "soc-workspace.hub.fullname" $) (printf "/usr/local/etc/jupyterhub/jupyterhub_config.d/%s" $file) $file) }}
{{- end }}
{{- include "soc-workspace.checkMount" (list $jh.hub (include "soc-workspace.settings.fullname" .) "/etc/soc-workspace" "") }}
{{- /* A subPath mount is not updated in a running pod: the hub restarts when the drop-ins
       change, through this annotation of its pod (the jupyterhub chart's hub.annotations) */}}
{{- $dropins := include "soc-workspace.dropinChecksum" . }}
{{- if ne (dig "annotations" "soc-workspace.org/dropin-checksum" "" $jh.hub) $dropins }}
{{- fail (printf "jupyterhub.hub.annotations[\"soc-workspace.org/dropin-checksum\"] must be %q, the checksum of this chart's files/hub/ (values.yaml): the hub pod restarts when it changes, and only then loads new drop-ins." $dropins) }}
{{- end }}

{{- /* The jupyterhub chart's default login takes any name and password: not on a public hub */}}
{{- if and (include "soc-workspace.dummyAuthenticator" .) (include "soc-workspace.publicHub" .) (not $v.allowDummyAuthenticator) }}
{{- fail "jupyterhub.hub.config.JupyterHub.authenticator_class is the jupyterhub chart's dummy authenticator (any user name, any password) and the hub is public (jupyterhub.proxy.service.type LoadBalancer, or an ingress): everyone on the internet could log in and use the users' cloud role (the SOC's buckets). Configure a real authenticator in jupyterhub.hub.config (docs/deploy-kubernetes.md, step 5), or make the hub private (jupyterhub.proxy.service.type: ClusterIP), or set allowDummyAuthenticator: true for a throw-away trial." }}
{{- end }}

{{- /* A workshop quota counts requests of every container of a pod, init containers too: the
       jupyterhub chart's block-cloud-metadata init container must request resources */}}
{{- if and $v.workshop.enabled $v.workshop.quota.enabled $jh.singleuser.cloudMetadata.blockWithIptables }}
{{- $requests := dig "resources" "requests" dict $jh.singleuser.networkTools }}
{{- if not (and $requests.cpu $requests.memory) }}
{{- fail "workshop.quota is enabled and jupyterhub.singleuser.networkTools.resources.requests has no cpu and memory: the ResourceQuota refuses every workshop server, whose block-cloud-metadata init container (jupyterhub.singleuser.cloudMetadata.blockWithIptables) then requests nothing. Set both (values.yaml does)." }}
{{- end }}
{{- end }}
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
{{- /* ... with the token the jupyterhub chart made for the gateway service (in its hub Secret),
       at the hub's API (the dask-gateway chart's default finds a Service called "hub") */}}
{{- $hub := include "soc-workspace.jupyterhub.name" (list . "hub.fullname") }}
{{- $auth := $dg.gateway.auth.jupyterhub }}
{{- if and (not $auth.apiToken) (or (ne $auth.apiTokenFromSecretName $hub) (ne $auth.apiTokenFromSecretKey "hub.services.dask-gateway.apiToken")) }}
{{- fail (printf "dask-gateway.gateway.auth.jupyterhub.apiTokenFromSecretName must be %q and apiTokenFromSecretKey \"hub.services.dask-gateway.apiToken\": the jupyterhub chart's hub Secret, which holds the gateway service's token (found %q, %q)." $hub $auth.apiTokenFromSecretName $auth.apiTokenFromSecretKey) }}
{{- end }}
{{- $apiUrl := printf "http://%s:8081%s/hub/api" $hub (trimSuffix "/" $jh.hub.baseUrl) }}
{{- if and (not $auth.apiUrl) (ne $apiUrl "http://hub:8081/hub/api") }}
{{- fail (printf "dask-gateway.gateway.auth.jupyterhub.apiUrl must be set to %q: the dask-gateway chart finds the hub's API only when its Service is called \"hub\" and its base URL is /." $apiUrl) }}
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

{{- /* (list hub-values configMap mountPath subPath): subPath "" mounts the whole ConfigMap */}}
{{- define "soc-workspace.checkMount" -}}
{{- $hub := index . 0 }}{{ $configMap := index . 1 }}{{ $path := index . 2 }}{{ $subPath := index . 3 }}
{{- $volume := "" }}
{{- range $hub.extraVolumes | default list }}
{{- if and .configMap (eq .configMap.name $configMap) }}{{ $volume = .name }}{{ end }}
{{- end }}
{{- $mounted := false }}
{{- range $hub.extraVolumeMounts | default list }}
{{- if and (eq .name $volume) (eq .mountPath $path) (eq (.subPath | default "") $subPath) }}{{ $mounted = true }}{{ end }}
{{- end }}
{{- if not $mounted }}
{{- fail (printf "jupyterhub.hub must mount ConfigMap %q at %s%s (extraVolumes + extraVolumeMounts, see values.yaml)." $configMap $path (ternary (printf " with subPath %s" $subPath) "" (ne $subPath ""))) }}
{{- end }}
{{- end }}

{{- /* The checksum of the hub drop-ins (files/hub/) */}}
{{- define "soc-workspace.dropinChecksum" -}}
{{- (.Files.Glob "files/hub/*.py").AsConfig | sha256sum | trunc 16 -}}
{{- end }}

{{- /* Non-empty when the hub logs people in with the jupyterhub chart's dummy authenticator */}}
{{- define "soc-workspace.dummyAuthenticator" -}}
{{- $class := dig "hub" "config" "JupyterHub" "authenticator_class" "" .Values.jupyterhub | toString }}
{{- if has $class (list "dummy" "dummyauthenticator.DummyAuthenticator" "jupyterhub.auth.DummyAuthenticator") }}dummy{{ end }}
{{- end }}

{{- /* Non-empty when the hub is reachable from outside the cluster */}}
{{- define "soc-workspace.publicHub" -}}
{{- $jh := .Values.jupyterhub }}
{{- if or (eq $jh.proxy.service.type "LoadBalancer") $jh.ingress.enabled (dig "httpRoute" "enabled" false $jh) }}public{{ end }}
{{- end }}
