// Imported first by the local entry points: the SDK here only talks to the embedded catalog, so its
// Node-version notice is noise. Set before any SDK module loads (imports run before a module's body).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
