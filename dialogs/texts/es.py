"""Spanish texts: every sentence the check-in says, by SMS and by voice.

SMS texts use only GSM-7 characters (no á, í, ó, ú; ñ, é, ¿ and ¡ are fine), as Spanish texts
commonly do: one accent outside GSM-7 would cut the room from 160 characters to 70. Voice texts
keep every accent. The concern question avoids "más": "no más" is an opt-out keyword (SPEC 8).
Fields as in `dialogs.texts.en`.
"""

from __future__ import annotations

from typing import Final

SMS: Final[dict[str, str | tuple[str, ...]]] = {
    "hi": "Hola {patient}. ",
    "first_message": "{pharmacy}: {hi}{q} Tel {phone}. ALTO para no recibir mas.",
    "reminder": "{pharmacy}: {hi}Recordatorio: {q} ALTO para no recibir mas.",
    "ask": "{pharmacy}: {q}",
    "reask": "{pharmacy}: Perdon, no entendi. {q}",
    "noinput": "{pharmacy}: No recibimos su respuesta. {q}",
    "who": "{pharmacy}: Somos su farmacia. {q}",
    # Issue 13: the patient's choice of pickup or delivery.
    "delivery_noted": "{pharmacy}: Gracias, le entregaremos sus resurtidos. {q}",
    "pickup_noted": "{pharmacy}: Gracias, usted recogera sus resurtidos. {q}",
    "delivery_ack": "{pharmacy}: Gracias, le entregaremos sus resurtidos. ¿Dudas? Llame al"
    " {phone}.",
    "pickup_ack": "{pharmacy}: Gracias, usted recogera sus resurtidos. ¿Dudas? Llame al {phone}.",
    "noted": "{pharmacy}: Gracias, lo anotamos. {q}",
    "question_noted": "{pharmacy}: Gracias, pasamos su pregunta. {q}",
    "help": "{pharmacy} {program}: resurtidos, frecuencia variable. Pueden aplicar tarifas de"
    " mensajes y datos. Tel {phone}. ALTO para no recibir mas.",
    "closing_confirmed": "{pharmacy}: ¡Gracias! Tendremos sus resurtidos para el {date}."
    " ¿Dudas? Llame al {phone}.",
    "closing_flagged": "{pharmacy}: ¡Gracias! Un farmaceutico lo revisara antes de su resurtido"
    " del {date}. ¿Dudas? Llame al {phone}.",
    "end_callback": "{pharmacy}: Un farmaceutico le llamara. Tambien puede llamarnos al {phone}.",
    "end_needs_human": "{pharmacy}: Perdon, no entendi. Un farmaceutico le llamara. Tambien puede"
    " llamarnos al {phone}.",
    "end_maybe_stop": "{pharmacy}: Gracias, un farmaceutico revisara su mensaje. Para no recibir"
    " mensajes, responda ALTO.",
    "end_no_input": "{pharmacy}: Lo intentaremos mas tarde. ¿Dudas? Llame al {phone}.",
    "already_done": "{pharmacy}: Su control de resurtido esta completo. ¿Dudas? Llame al {phone}.",
    "opt_out": "{pharmacy}: Su suscripcion fue cancelada: no recibira mas mensajes ni llamadas de"
    " resurtido. Responda START para volver.",
    "opt_in": "{pharmacy}: Suscrito a {program}. Frecuencia variable. Pueden aplicar tarifas de"
    " mensajes y datos. AYUDA para ayuda, ALTO para salir.",
    "late_ack": "{pharmacy}: Gracias, pasamos su mensaje al farmaceutico. ¿Dudas? Llame al"
    " {phone}.",
    "unknown_number": "{pharmacy}: Perdon, no reconocemos este numero. Llamenos al {phone}.",
    # Issue 14: la bienvenida tras el consentimiento, una sola vez (confirmacion CTIA).
    # Issue 13: el personal marco el resurtido listo, y el unico recordatorio de recogida.
    "ready_pickup": "{pharmacy}: {hi}Sus resurtidos estan listos para recoger. ¿Dudas? Llame al"
    " {phone}. ALTO para salir.",
    "ready_delivery": "{pharmacy}: {hi}Sus resurtidos estan listos y se entregaran pronto."
    " ¿Dudas? Llame al {phone}. ALTO para salir.",
    "pickup_reminder": "{pharmacy}: {hi}Recordatorio: sus resurtidos lo esperan para recoger."
    " ¿Dudas? Llame al {phone}. ALTO para salir.",
    "welcome": "{pharmacy}: {hi}{program}: msj antes de cada resurtido, recoja el {date}."
    " Pueden aplicar tarifas de msj y datos. AYUDA ayuda, ALTO salir.",
    # Formulario rapido: todos los temas en una pregunta, de la mas larga a la mas corta.
    "quick": (
        "Antes de su resurtido: ¿medicinas o dosis nuevas o cambiadas, dosis olvidadas,"
        " hospital, algo que necesite o preguntas? Responda NO o cuéntenos.",
        "¿Medicinas o dosis nuevas, dosis olvidadas, hospital, algo que necesite o preguntas?"
        " Responda NO o cuéntenos.",
        "¿Cambios de medicinas, dosis olvidadas, hospital, necesidades o preguntas? Responda NO"
        " o cuéntenos.",
        "¿Cambios de medicina, dosis olvidadas, hospital o preguntas? Responda NO o cuéntenos.",
        "¿Cambios de medicina o dosis, hospital o preguntas? Responda NO o cuéntenos.",
        "¿Algo nuevo en medicinas, dosis u hospital? Responda NO o cuéntenos.",
    ),
    "quick_reask": (
        "Si no hay nada nuevo, responda NO. Si hubo cambios, cuéntenos en pocas palabras.",
        "¿Nada nuevo? Responda NO. O cuéntenos que cambio.",
    ),
    "quick_details": (
        "¿Qué hay de nuevo? Cuéntenos en pocas palabras: medicinas, dosis, dosis olvidadas,"
        " hospital o lo que necesite.",
        "¿Qué hay de nuevo? Cuéntenos en pocas palabras.",
    ),
    # Sin "más": "no más" es una palabra para darse de baja (SPEC 8).
    "quick_more": (
        "Gracias, un farmaceutico lo revisara. ¿Alguna otra cosa? Responda NO o cuéntenos.",
        "¿Alguna otra cosa? Responda NO o cuéntenos.",
    ),
    "quick_more_details": "¿Qué otra cosa? Cuéntenos en pocas palabras.",
    "med_change": "¿Medicinas o dosis nuevas, suspendidas o cambiadas? Responda SI o NO.",
    "med_change_details": "¿Que cambio? Responda en pocas palabras.",
    "adherence": (
        "¿Olvido dosis, efectos secundarios, pastillas de sobra o problemas al tomarlas? Responda"
        " SI o NO.",
        "¿Dosis olvidadas, efectos secundarios o pastillas de sobra? Responda SI o NO.",
    ),
    "adherence_details": "¿Que paso? Responda en pocas palabras.",
    "prn_need": (
        "¿Necesita algo de uso ocasional, como inhalador o tiras reactivas? Responda SI o NO.",
        "¿Necesita inhalador, tiras u otra cosa ocasional? Responda SI o NO.",
    ),
    "prn_need_details": "¿Que necesita? Responda en pocas palabras.",
    "health_change": (
        "¿Estancia en hospital o urgencias, o una condicion de salud nueva? Responda SI o NO.",
        "¿Hospital, urgencias o condicion nueva? Responda SI o NO.",
    ),
    "health_change_details": "¿Que paso? Responda en pocas palabras.",
    "concern": "¿Tiene otra pregunta para el farmaceutico? Escribala aqui, o responda NO.",
    "concern_details": "¿Cual es su pregunta para el farmaceutico?",
}

_KEYS: Final = " Presione 1 para sí o 2 para no."
_NOTHING_NEW_KEYS: Final = (
    " Si nada ha cambiado, presione 1. Para contarnos, presione 2, o simplemente díganos."
)
_RECORD: Final = " después del tono, y luego presione la tecla numeral."

VOICE: Final[dict[str, str | tuple[str, ...]]] = {
    "identity": "Hola, le llama {pharmacy}, buscando a {patient}. Si usted es {patient},"
    " presione 1 o diga sí. Si no, presione 2.",
    "wrong_person": "Gracias. Por favor pídale a {patient} que llame a {pharmacy} al {phone}."
    " Repetimos, {phone}. Adiós.",
    "intro": "Gracias. Le llamamos sobre sus resurtidos para el {date}. Para hablar con un"
    " farmacéutico, presione 0. Para no recibir estas llamadas, presione 9.",
    "intro_inbound": "Gracias por llamar a {pharmacy}. Tenemos unas preguntas sobre sus"
    " resurtidos para el {date}. Para hablar con un farmacéutico, presione 0.",
    "transfer": "Por favor espere mientras le comunicamos con la farmacia.",
    "closed_message": "La farmacia está cerrada en este momento. {q}",
    "transfer_failed": "Perdón, nadie pudo contestar en este momento. {q}",
    "callback_message": "Por favor deje un mensaje para el farmacéutico" + _RECORD,
    "voicemail": "Hola, le llama {pharmacy}. Por favor devuélvanos la llamada al {phone}."
    " Repetimos, {phone}. Gracias.",
    "ask": "{q}",
    "reask": "Perdón, no entendí. {q}",
    "noinput": "Perdón, no escuché nada. {q}",
    "who": "Le llama {pharmacy}, sobre sus resurtidos. {q}",
    # Issue 13: the patient's choice of pickup or delivery.
    "delivery_noted": "Gracias, le entregaremos sus resurtidos. {q}",
    "pickup_noted": "Gracias, usted recogerá sus resurtidos. {q}",
    "delivery_ack": "Gracias, le entregaremos sus resurtidos. Adiós.",
    "pickup_ack": "Gracias, usted recogerá sus resurtidos. Adiós.",
    "noted": "Gracias, lo anotamos. {q}",
    "question_noted": "Gracias, un farmacéutico responderá su pregunta. {q}",
    "help": "Este es el control de resurtidos {program} de {pharmacy}. Para comunicarse con la"
    " farmacia, llame al {phone}. Para no recibir estas llamadas, presione 9 o diga alto."
    " Para hablar con un farmacéutico, presione 0.",
    "closing_confirmed": "Gracias. Tendremos sus resurtidos para el {date}. Adiós.",
    "closing_flagged": "Gracias. Un farmacéutico revisará sus respuestas antes de su resurtido"
    " del {date}. Adiós.",
    "end_callback": "Un farmacéutico le devolverá la llamada. También puede llamarnos al {phone}."
    " Adiós.",
    "end_needs_human": "Perdón, no entendí. Un farmacéutico le llamará. También puede llamarnos"
    " al {phone}. Adiós.",
    "end_maybe_stop": "Gracias, un farmacéutico revisará su respuesta. Adiós.",
    "end_no_input": "Lo intentaremos más tarde. Para comunicarse con la farmacia, llame al"
    " {phone}. Adiós.",
    "already_done": "Gracias por llamar a {pharmacy}. Su control de resurtido está completo."
    " Para comunicarse con la farmacia, llame al {phone}. Adiós.",
    "opt_out": "No recibirá más llamadas ni mensajes de resurtido de {pharmacy}. Adiós.",
    "opt_in": "Está suscrito al control de resurtidos {program} de {pharmacy}. Adiós.",
    "late_ack": "Gracias. Pasamos su mensaje al farmacéutico. Adiós.",
    "unknown_number": "Gracias por llamar a {pharmacy}. Por favor llame a la farmacia al"
    " {phone}. Adiós.",
    # Issue 14: la bienvenida como llamada (puede llegar a un buzón: nada de medicinas).
    # Issue 13: el aviso de listo y el recordatorio de recogida como llamadas.
    "ready_pickup": "Hola, le habla {pharmacy}. Sus resurtidos están listos para recoger."
    " ¿Dudas? Llámenos al {phone}. Otra vez, {phone}. Adiós.",
    "ready_delivery": "Hola, le habla {pharmacy}. Sus resurtidos están listos y se entregarán"
    " pronto. ¿Dudas? Llámenos al {phone}. Otra vez, {phone}. Adiós.",
    "pickup_reminder": "Hola, le habla {pharmacy}. Un recordatorio: sus resurtidos lo esperan"
    " para recoger. ¿Dudas? Llámenos al {phone}. Otra vez, {phone}. Adiós.",
    "welcome": "Hola, le habla {pharmacy}. Bienvenido al programa {program}. Le llamaremos"
    " una semana antes de cada recogida. Su próxima recogida es el {date}. Para ayuda, o para"
    " no recibir estas llamadas, llámenos al {phone}. Otra vez, {phone}. Adiós.",
    # Una llamada entrante sin check-in abierto: un mensaje para el farmacéutico.
    "leave_message": "Gracias por llamar a {pharmacy}. Deje su mensaje para el farmacéutico"
    " después del tono y luego oprima la tecla de número. Nuestro número es {phone}.",
    "message_goodbye": "Gracias. El farmacéutico recibirá su mensaje. Adiós.",
    "quick": "Desde su último resurtido, ¿ha cambiado algo? Medicinas o dosis nuevas,"
    " suspendidas o cambiadas, dosis olvidadas o efectos secundarios, una estancia en el"
    " hospital, o algo que necesite." + _NOTHING_NEW_KEYS,
    "quick_reask": "Si nada ha cambiado, presione 1. Para contarnos qué cambió, presione 2.",
    "quick_details": "Por favor díganos qué cambió" + _RECORD,
    "quick_more": "¿Hay alguna otra cosa para el farmacéutico? Si no, presione 1. Para"
    " contarnos, presione 2.",
    "quick_more_reask": "Si no hay nada más, presione 1. Para contarnos, presione 2.",
    "quick_more_details": "Por favor díganos" + _RECORD,
    "med_change": "Desde su último resurtido, ¿ha empezado, suspendido o cambiado alguna"
    " medicina o dosis?" + _KEYS,
    "med_change_details": "Por favor díganos qué cambió" + _RECORD,
    "adherence": "¿Ha olvidado dosis, tenido efectos secundarios, pastillas de sobra o problemas"
    " para tomar sus medicinas?" + _KEYS,
    "adherence_details": "Por favor díganos qué pasó" + _RECORD,
    "prn_need": "¿Necesita algo de uso ocasional esta vez, como un inhalador o tiras reactivas?"
    + _KEYS,
    "prn_need_details": "Por favor díganos qué necesita" + _RECORD,
    "health_change": "Desde su último resurtido, ¿ha estado en el hospital o en urgencias, o tiene"
    " una condición de salud nueva?" + _KEYS,
    "health_change_details": "Por favor díganos qué pasó" + _RECORD,
    "concern": "¿Tiene alguna otra pregunta para el farmacéutico?" + _KEYS,
    "concern_details": "Por favor deje su pregunta para el farmacéutico" + _RECORD,
}

WEEKDAYS: Final = {
    "sms": ("lun", "mar", "mie", "jue", "vie", "sab", "dom"),
    "voice": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
}
MONTHS: Final = {
    "sms": ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"),
    "voice": (
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ),
}
DATE: Final = {"sms": "{weekday} {day} {month}", "voice": "{weekday} {day} de {month}"}
