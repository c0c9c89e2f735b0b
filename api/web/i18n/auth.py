"""The words of signing in and of the admin's users page."""

MESSAGES: dict[str, dict[str, str]] = {
    # Signing in
    "auth.sign_in.title": {"es": "Iniciar sesión", "en": "Sign in"},
    "auth.sign_in.lead": {
        "es": "Ingresa a tu espacio de trabajo de cobranza.",
        "en": "Sign in to your collections workspace.",
    },
    "auth.email": {"es": "Correo electrónico", "en": "Email"},
    "auth.password": {"es": "Contraseña", "en": "Password"},
    "auth.sign_in.submit": {"es": "Continuar", "en": "Continue"},
    "auth.sign_in.help": {
        "es": "¿Olvidaste tu contraseña o perdiste tu teléfono? Pide ayuda a un administrador.",
        "en": "Forgot your password or lost your phone? Ask an administrator for help.",
    },
    "auth.language.es": {"es": "Español", "en": "Español"},
    "auth.language.en": {"es": "English", "en": "English"},
    "auth.language.choose": {"es": "Cambiar", "en": "Change"},
    "auth.error.wrong": {
        "es": "El correo o la contraseña no son correctos.",
        "en": "The email or the password is not right.",
    },
    "auth.error.locked": {
        "es": "Tu cuenta está bloqueada por demasiados intentos fallidos hasta las {time} (UTC). "
        "Inténtalo de nuevo después de esa hora o pide a un administrador que la desbloquee.",
        "en": "Your account is locked after too many failed attempts until {time} (UTC). "
        "Try again after that time, or ask an administrator to unlock it.",
    },
    "auth.error.too_many": {
        "es": "Demasiados intentos seguidos. Espera {seconds} segundos y vuelve a intentarlo.",
        "en": "Too many attempts in a row. Wait {seconds} seconds and try again.",
    },
    "auth.error.disabled": {
        "es": "Esta cuenta está desactivada. Habla con un administrador.",
        "en": "This account is disabled. Talk to an administrator.",
    },
    "auth.error.code": {
        "es": "El código no es correcto o ya se usó. Escribe el código que muestra ahora tu "
        "aplicación.",
        "en": "The code is not right or was already used. Enter the code your app shows now.",
    },
    "auth.error.step_expired": {
        "es": "Pasó demasiado tiempo desde que ingresaste tu contraseña. Ingrésala otra vez.",
        "en": "Too much time has passed since you entered your password. Enter it again.",
    },
    # The code
    "auth.code.title": {"es": "Código de verificación", "en": "Verification code"},
    "auth.code.lead": {
        "es": "Abre tu aplicación de autenticación y escribe el código de 6 dígitos de "
        "Cobranza para {email}.",
        "en": "Open your authenticator app and enter the 6-digit Cobranza code for {email}.",
    },
    "auth.code.label": {"es": "Código de 6 dígitos", "en": "6-digit code"},
    "auth.code.hint": {
        "es": "El código cambia cada 30 segundos.",
        "en": "The code changes every 30 seconds.",
    },
    "auth.code.submit": {"es": "Verificar y entrar", "en": "Verify and sign in"},
    "auth.code.other_account": {"es": "Entrar con otra cuenta", "en": "Use another account"},
    # Enrolment
    "auth.enrol.title": {"es": "Activa tu segundo factor", "en": "Set up your second factor"},
    "auth.enrol.lead": {
        "es": "Para proteger los datos de tus clientes, tu cuenta pide además de la contraseña "
        "un código de una aplicación de autenticación. Se configura una sola vez.",
        "en": "To protect your customers' data, your account asks for a code from an "
        "authenticator app as well as the password. You set it up once.",
    },
    "auth.enrol.step_app": {
        "es": "Instala en tu teléfono una aplicación de autenticación, por ejemplo Google "
        "Authenticator, Microsoft Authenticator o 1Password.",
        "en": "Install an authenticator app on your phone, for example Google Authenticator, "
        "Microsoft Authenticator or 1Password.",
    },
    "auth.enrol.step_scan": {
        "es": "En la aplicación, agrega una cuenta y escanea este código QR.",
        "en": "In the app, add an account and scan this QR code.",
    },
    "auth.enrol.step_code": {
        "es": "Escribe abajo el código de 6 dígitos que aparece en la aplicación.",
        "en": "Enter below the 6-digit code the app shows.",
    },
    "auth.enrol.qr_alt": {
        "es": "Código QR para agregar {email} a tu aplicación de autenticación",
        "en": "QR code to add {email} to your authenticator app",
    },
    "auth.enrol.manual": {
        "es": "¿No puedes escanearlo? Ingresa esta clave en la aplicación:",
        "en": "Cannot scan it? Enter this key in the app:",
    },
    "auth.enrol.submit": {"es": "Activar y entrar", "en": "Activate and sign in"},
    # The admin's users page
    "admin.users.title": {"es": "Usuarios", "en": "Users"},
    "admin.users.lead": {
        "es": "Quién entra al espacio de trabajo, con qué rol, y si ya activó su segundo factor.",
        "en": "Who signs in to the workspace, in which role, and whether their second factor "
        "is set up.",
    },
    "admin.users.caption": {"es": "Usuarios del espacio de trabajo", "en": "Workspace users"},
    "admin.users.name": {"es": "Nombre", "en": "Name"},
    "admin.users.email": {"es": "Correo electrónico", "en": "Email"},
    "admin.users.role": {"es": "Rol", "en": "Role"},
    "admin.users.language": {"es": "Idioma", "en": "Language"},
    "admin.users.second_factor": {"es": "Segundo factor", "en": "Second factor"},
    "admin.users.locked_until": {"es": "Bloqueado hasta", "en": "Locked until"},
    "admin.users.status": {"es": "Estado", "en": "Status"},
    "admin.users.actions": {"es": "Acciones", "en": "Actions"},
    "admin.users.enrolled": {"es": "Activado", "en": "Set up"},
    "admin.users.not_enrolled": {"es": "Pendiente", "en": "Pending"},
    "admin.users.not_locked": {"es": "No bloqueado", "en": "Not locked"},
    "admin.users.active": {"es": "Activo", "en": "Active"},
    "admin.users.inactive": {"es": "Desactivado", "en": "Disabled"},
    "admin.users.you": {"es": "(tú)", "en": "(you)"},
    "admin.users.none": {"es": "Todavía no hay usuarios.", "en": "No users yet."},
    "admin.users.unlock": {"es": "Desbloquear", "en": "Unlock"},
    "admin.users.reset": {"es": "Restablecer segundo factor", "en": "Reset second factor"},
    "admin.users.disable": {"es": "Desactivar…", "en": "Disable…"},
    "admin.users.disable_confirm": {
        "es": "{name} no podrá volver a entrar.",
        "en": "{name} will not be able to sign in again.",
    },
    "admin.users.disable_yes": {"es": "Sí, desactivar", "en": "Yes, disable"},
    "admin.users.create.title": {"es": "Nuevo usuario", "en": "New user"},
    "admin.users.create.password": {"es": "Contraseña inicial", "en": "Initial password"},
    "admin.users.create.password_hint": {
        "es": "Al menos {minimum} caracteres. Entrégala por un canal seguro; el usuario "
        "activará su segundo factor al entrar por primera vez.",
        "en": "At least {minimum} characters. Hand it over through a safe channel; the user "
        "sets up their second factor on first sign-in.",
    },
    "admin.users.create.submit": {"es": "Crear usuario", "en": "Create user"},
    "admin.users.created": {
        "es": "Se creó la cuenta de {name} ({email}).",
        "en": "The account of {name} ({email}) was created.",
    },
    "admin.users.enrol.title": {"es": "Código QR de inscripción", "en": "Enrolment QR code"},
    "admin.users.enrol.once": {
        "es": "Se muestra una sola vez. Escanéalo ahora con la aplicación de autenticación del "
        "usuario, o deja que lo active él mismo en su primer inicio de sesión.",
        "en": "Shown once. Scan it now with the user's authenticator app, or let them set it up "
        "themselves on their first sign-in.",
    },
    "admin.users.reset_done": {
        "es": "Se restableció el segundo factor de {name}. Su aplicación anterior ya no sirve; "
        "activará uno nuevo al entrar.",
        "en": "The second factor of {name} was reset. Their old app no longer works; they set "
        "up a new one when they sign in.",
    },
    "admin.users.unlocked": {
        "es": "Se desbloqueó la cuenta de {name}.",
        "en": "The account of {name} was unlocked.",
    },
    "admin.users.disabled": {
        "es": "Se desactivó la cuenta de {name}.",
        "en": "The account of {name} was disabled.",
    },
    "admin.users.cannot_disable_self": {
        "es": "No puedes desactivar tu propia cuenta.",
        "en": "You cannot disable your own account.",
    },
    "admin.users.not_found": {"es": "Ese usuario no existe.", "en": "That user does not exist."},
    "admin.error.email_invalid": {
        "es": "Correo electrónico: no es una dirección válida.",
        "en": "Email: not a valid address.",
    },
    "admin.error.email_taken": {
        "es": "Correo electrónico: ya hay una cuenta con esa dirección.",
        "en": "Email: there is already an account with that address.",
    },
    "admin.error.name_missing": {"es": "Nombre: falta el nombre.", "en": "Name: it is missing."},
    "admin.error.role_unknown": {"es": "Rol: elige uno de la lista.", "en": "Role: pick one."},
    "admin.error.language_unknown": {
        "es": "Idioma: elige español o inglés.",
        "en": "Language: pick Spanish or English.",
    },
    "admin.error.password_short": {
        "es": "Contraseña inicial: necesita al menos {minimum} caracteres.",
        "en": "Initial password: it needs at least {minimum} characters.",
    },
}
